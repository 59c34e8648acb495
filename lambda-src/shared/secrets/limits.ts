// Secrets Manager's own limits and names, for every handler that reads or writes secrets.

/** ListSecrets page size: the API maximum. */
export const LIST_SECRETS_PAGE_SIZE = 100;
/** BatchGetSecretValue takes at most 20 secret ids per call. */
export const BATCH_GET_SECRET_VALUE_SIZE = 20;
/** Alias of the AWS managed key Secrets Manager uses when a secret names no key. */
export const DEFAULT_SECRETS_KEY_ALIAS = 'alias/aws/secretsmanager';
