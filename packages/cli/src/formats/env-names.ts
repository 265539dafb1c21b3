/**
 * The environment variable name for a secret's field. With the prefix: `mail` + `host` →
 * `MAIL_HOST` (upper case, the convention for variables). Without: the field name as it is
 * (`host`), so a dotenv export of one secret reads back into the same fields. Anything but
 * letters, digits and `_` becomes `_`, and a leading digit gets a `_` in front, so the name
 * works in every shell.
 *
 * @example
 * envName('smtp-prod', 'password') // 'SMTP_PROD_PASSWORD'
 * envName('smtp-prod', 'password', false) // 'password'
 */
export function envName(secret: string, field: string, prefix = true): string {
  const raw = prefix ? `${secret}_${field}`.toUpperCase() : field;
  const name = raw.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}
