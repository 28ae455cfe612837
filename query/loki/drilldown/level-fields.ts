// The line fields daytwo reads a level from (query/loki/labels.ts `detectLevel`: a JSON or
// logfmt `level`, `lvl`, `severity`, `loglevel`, `log_level`), as Loki's `log_level_fields`.
export const LEVEL_FIELDS = ['level', 'lvl', 'severity', 'loglevel', 'log_level']
