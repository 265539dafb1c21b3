import { useId } from 'react';
import { SecretInput } from '../ui/secret-input';

/** One row of a free-form secret (the `generic` kind): a field name and its (secret) value. */
export interface FreeFormRow {
  key: string;
  value: string;
  /** The name it had when loaded, to remove it when renamed or deleted. */
  original?: string;
  /** The value it had when loaded (the mask, unless revealed): unchanged rows are not sent. */
  originalValue?: string;
}

/**
 * Free key/value rows for kinds that take any field names; every value is secret. Rows can be
 * added and removed; the server names each refused name or value.
 */
export function FreeFormFields(props: {
  rows: FreeFormRow[];
  issues: Record<string, string>;
  maxFields: number | undefined;
  onChange: (rows: FreeFormRow[]) => void;
}) {
  const id = useId();
  const { rows, onChange } = props;
  const update = (index: number, patch: Partial<FreeFormRow>) =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <fieldset className="free-form">
      <legend>Fields</legend>
      <p className="field-help">Any names; every value is kept secret.</p>
      {rows.map((row, index) => {
        const keyId = `${id}-key-${index}`;
        const valueId = `${id}-value-${index}`;
        const error = props.issues[row.key];
        const errorId = `${id}-error-${index}`;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place
          <div className="free-form-row" key={index}>
            <div className="field">
              <label className="field-label" htmlFor={keyId}>
                Name of field {index + 1}
              </label>
              <input
                id={keyId}
                className="input mono"
                value={row.key}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={error === undefined ? undefined : true}
                aria-describedby={error === undefined ? undefined : errorId}
                onChange={(e) => update(index, { key: e.target.value })}
              />
            </div>
            <div className="field">
              <label className="field-label" htmlFor={valueId}>
                Value of field {index + 1}
              </label>
              <SecretInput
                control={{ id: valueId }}
                name={`value-${index}`}
                label={`value of field ${index + 1}`}
                value={row.value}
                onChange={(value) => update(index, { value })}
              />
            </div>
            <button
              type="button"
              className="button button-small free-form-remove"
              aria-label={`Remove field ${index + 1}`}
              onClick={() => onChange(rows.filter((_, i) => i !== index))}
            >
              Remove
            </button>
            {error === undefined ? null : (
              <p id={errorId} className="field-error free-form-error">
                {error}
              </p>
            )}
          </div>
        );
      })}
      <button
        type="button"
        className="button"
        disabled={props.maxFields !== undefined && rows.length >= props.maxFields}
        onClick={() => onChange([...rows, { key: '', value: '' }])}
      >
        Add a field
      </button>
    </fieldset>
  );
}
