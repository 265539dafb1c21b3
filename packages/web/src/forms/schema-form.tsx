import { FormField } from '../ui/form-field';
import { SecretInput } from '../ui/secret-input';
import type { FieldSpec, FormState } from './schema-fields';

/**
 * The fields of a kind as form inputs: labels, help, required marks, defaults (already in
 * `state`), the server's message under each field it refused, secret fields as password inputs.
 */
export function SchemaFields(props: {
  fields: readonly FieldSpec[];
  state: FormState;
  issues: Record<string, string>;
  onChange: (name: string, value: string | boolean) => void;
  /** Secret fields that still hold the mask (editing): say that leaving them keeps the value. */
  masked?: ReadonlySet<string>;
}) {
  return (
    <>
      {props.fields.map((field) => (
        <SchemaField
          key={field.name}
          field={field}
          value={props.state[field.name] ?? ''}
          error={props.issues[field.name]}
          masked={props.masked?.has(field.name) ?? false}
          onChange={(value) => props.onChange(field.name, value)}
        />
      ))}
    </>
  );
}

function SchemaField(props: {
  field: FieldSpec;
  value: string | boolean;
  error: string | undefined;
  masked: boolean;
  onChange: (value: string | boolean) => void;
}) {
  const { field, value } = props;
  const help = props.masked
    ? joinHelp(field.help, 'Stored and hidden: leave it as it is to keep it.')
    : field.help;
  const text = typeof value === 'string' ? value : '';
  if (field.input === 'checkbox') {
    return (
      <FormField label={field.label} help={help} error={props.error} inline>
        {(control) => (
          <input
            {...control}
            type="checkbox"
            name={field.name}
            checked={value === true}
            onChange={(e) => props.onChange(e.target.checked)}
          />
        )}
      </FormField>
    );
  }
  return (
    <FormField label={field.label} required={field.required} help={help} error={props.error}>
      {(control) => {
        if (field.secret) {
          return (
            <SecretInput
              control={control}
              name={field.name}
              label={field.label}
              value={text}
              multiline={field.input === 'multiline'}
              placeholder={field.placeholder}
              onChange={props.onChange}
            />
          );
        }
        if (field.input === 'select') {
          return (
            <select
              {...control}
              name={field.name}
              className="input"
              value={text}
              onChange={(e) => props.onChange(e.target.value)}
            >
              {field.required && field.default !== undefined ? null : <option value="">—</option>}
              {field.options?.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          );
        }
        if (field.input === 'multiline') {
          return (
            <textarea
              {...control}
              name={field.name}
              className="input"
              rows={4}
              value={text}
              placeholder={field.placeholder}
              onChange={(e) => props.onChange(e.target.value)}
            />
          );
        }
        return (
          <input
            {...control}
            name={field.name}
            className="input"
            type={htmlType(field.input)}
            inputMode={
              field.input === 'number' ? (field.type === 'integer' ? 'numeric' : 'decimal') : undefined
            }
            min={field.min}
            max={field.max}
            maxLength={field.maxLength}
            value={text}
            placeholder={field.placeholder}
            autoComplete="off"
            spellCheck={field.input === 'text' ? undefined : false}
            onChange={(e) => props.onChange(e.target.value)}
          />
        );
      }}
    </FormField>
  );
}

function htmlType(input: FieldSpec['input']): string {
  if (input === 'email' || input === 'url' || input === 'number') return input;
  return 'text';
}

function joinHelp(a: string | undefined, b: string): string {
  return a === undefined ? b : `${a} ${b}`;
}
