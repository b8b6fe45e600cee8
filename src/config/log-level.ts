/** The log level: LOG_LEVEL from the environment (config/ is the one place that reads it), else info. */
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

export function logLevel(env: Readonly<Record<string, string | undefined>> = process.env): LogLevel {
  const v = env.LOG_LEVEL;
  if (v === undefined || v === '') return 'info';
  if ((LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new RangeError(`LOG_LEVEL must be one of ${LEVELS.join(', ')} (got ${v})`);
}
