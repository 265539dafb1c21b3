import { type ReactElement, type ReactNode, useId } from 'react';

export interface ControlProps {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: boolean;
  'aria-required'?: boolean;
}

/**
 * A labelled form control with its help text and its error (from the server), wired up for
 * screen readers: the label names the control, help and error describe it, a required field is
 * marked visibly and with `aria-required`.
 *
 * @example
 * <FormField label="Host" required help="The mail server" error={issues.host}>
 *   {(control) => <input {...control} value={host} onChange={...} />}
 * </FormField>
 */
export function FormField(props: {
  label: ReactNode;
  required?: boolean;
  help?: string | undefined;
  error?: string | undefined;
  /** Checkboxes put the label after the box. */
  inline?: boolean;
  children: (control: ControlProps) => ReactElement;
  extra?: ReactNode;
}) {
  const id = useId();
  const helpId = `${id}-help`;
  const errorId = `${id}-error`;
  const describedBy = [props.help ? helpId : undefined, props.error ? errorId : undefined]
    .filter((x) => x !== undefined)
    .join(' ');
  const control: ControlProps = {
    id,
    ...(describedBy === '' ? {} : { 'aria-describedby': describedBy }),
    ...(props.error ? { 'aria-invalid': true } : {}),
    ...(props.required ? { 'aria-required': true } : {}),
  };
  const label = (
    <label htmlFor={id} className="field-label">
      {props.label}
      {props.required ? (
        <span className="required-mark" aria-hidden="true">
          {' '}
          *
        </span>
      ) : null}
    </label>
  );
  return (
    <div className={props.error ? 'field field-invalid' : 'field'}>
      {props.inline ? (
        <div className="field-inline">
          {props.children(control)}
          {label}
        </div>
      ) : (
        <>
          {label}
          <div className="field-control">
            {props.children(control)}
            {props.extra}
          </div>
        </>
      )}
      {props.help ? (
        <p id={helpId} className="field-help">
          {props.help}
        </p>
      ) : null}
      {props.error ? (
        <p id={errorId} className="field-error">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
