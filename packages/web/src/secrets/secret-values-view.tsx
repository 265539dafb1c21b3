import type { FieldValue, SecretValues } from '../api/types';
import type { FieldSpec } from '../forms/schema-fields';
import { CopyButton } from '../ui/copy-button';

/**
 * The values of a secret as a list of fields. Secret fields show the mask the server sent until
 * the user reveals them; revealed ones can be copied.
 */
export function SecretValuesView({ values, fields }: { values: SecretValues; fields: readonly FieldSpec[] }) {
  const known = new Map(fields.map((f) => [f.name, f]));
  const names = [
    ...fields.map((f) => f.name).filter((n) => n in values.values),
    ...Object.keys(values.values).filter((n) => !known.has(n)),
  ];
  if (names.length === 0) return <p className="muted">No values.</p>;
  return (
    <dl className="values">
      {names.map((name) => {
        const field = known.get(name);
        const value = values.values[name]!;
        const masked = values.maskedFields.includes(name);
        const secret = masked || field?.secret === true;
        return (
          <div className="value-row" key={name} data-field={name}>
            <dt>{field?.label ?? name}</dt>
            <dd>
              <ValueText value={value} masked={masked} multiline={field?.input === 'multiline'} />
              {secret && !masked ? <CopyButton text={String(value)} label={`Copy`} /> : null}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}

function ValueText({ value, masked, multiline }: { value: FieldValue; masked: boolean; multiline: boolean }) {
  if (masked) {
    return (
      <span className="masked">
        <span aria-hidden="true">{String(value)}</span>
        <span className="visually-hidden">hidden</span>
      </span>
    );
  }
  if (typeof value === 'boolean') return <span>{value ? 'yes' : 'no'}</span>;
  if (multiline) return <pre className="value-multiline">{value}</pre>;
  return <span className="value-text">{String(value)}</span>;
}
