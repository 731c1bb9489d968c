// Cryptography shared by modules: the at-rest secret box, its key, and webhook signatures.
export type { SecretBox } from "./secret-box.ts";
export { openSecretBox, parseSecretKey, SECRET_KEY_FORMAT } from "./secret-key.ts";
export { SIGNATURE_HEADER, signWebhook } from "./webhook-signature.ts";
