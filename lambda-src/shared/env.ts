/**
 * A handler's configuration is missing or malformed. Its message names the variable and the field
 * and says what is allowed, but never holds a value, so it is reported whole wherever the
 * configuration came from (the environment at cold start, or a settings document).
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * Reads handler configuration from environment variables. A missing or malformed variable fails
 * the cold start with a message naming it (never its value, which may be long JSON).
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new ConfigurationError(`environment variable ${name} is required but not set`);
  }
  return value;
}

/** Parses a JSON environment variable, failing with the variable's name on bad JSON. */
export function requireJsonEnv<T>(name: string, env: NodeJS.ProcessEnv = process.env): T {
  const raw = requireEnv(name, env);
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new Error(`environment variable ${name} must be JSON: ${(e as Error).message}`);
  }
}

/** Parses a boolean environment variable (`true` or `false`). */
export function booleanEnv(name: string, fallback: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') {
    throw new Error(`environment variable ${name} must be "true" or "false", but got ${JSON.stringify(raw)}`);
  }
  return raw === 'true';
}

/** Parses an integer environment variable within bounds. */
export function integerEnv(name: string, fallback: number, min: number, max: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`environment variable ${name} must be an integer from ${min} to ${max}, but got ${JSON.stringify(raw)}`);
  }
  return value;
}
