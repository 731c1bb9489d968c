// Cryptography shared by modules: the at-rest secret box, its key, secret fields sealed inside
// stored documents, and webhook signatures.
export type { SecretBox } from "./secret-box.ts";
export { defineSealedFields, REDACTED } from "./sealed-fields.ts";
export type { SealedFields, SealedSecret, SecretFieldMap, SecretValue } from "./sealed-fields.ts";
export { openSecretBox, parseSecretKey, SECRET_KEY_FORMAT } from "./secret-key.ts";
export { SIGNATURE_HEADER, signWebhook } from "./webhook-signature.ts";
