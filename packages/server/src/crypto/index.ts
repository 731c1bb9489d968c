// Cryptography shared by modules: the at-rest secret box, its key, and webhook signatures.
export { createLockedSecretBox, createSecretBox } from "./secret-box.ts";
export type { SecretBox } from "./secret-box.ts";
export { loadSecretKey, openSecretBox, parseSecretKey, SECRET_KEY_BYTES, SECRET_KEY_FILE, SECRET_KEY_FORMAT } from "./secret-key.ts";
export type { LoadSecretKeyOptions } from "./secret-key.ts";
export { SIGNATURE_HEADER, signWebhook } from "./webhook-signature.ts";
