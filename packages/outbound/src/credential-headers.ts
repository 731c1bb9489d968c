// Which request headers carry credentials, by name or by convention: the one rule for masking
// them in records (automation webhook steps) and for never sending them to another origin.

// Authorization and Proxy-Authorization, Cookie, and the conventions: X-Api-Key, *token*, *secret* …
const CREDENTIAL_HEADER = /authorization|cookie|token|secret|password|signature|api-?key/i;

/** Whether a header's value is a credential: masked when shown, dropped on a redirect to another origin. */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER.test(name);
}
