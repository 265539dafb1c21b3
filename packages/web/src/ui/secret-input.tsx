import { useState } from 'react';
import type { ControlProps } from './form-field';

/**
 * A secret field: a password input (or, for keys, a text area whose characters are hidden),
 * never autocompleted or spell-checked, with a toggle that shows what was typed.
 */
export function SecretInput(props: {
  control: ControlProps;
  name: string;
  label: string;
  value: string;
  multiline?: boolean;
  placeholder?: string | undefined;
  onChange: (value: string) => void;
}) {
  const [shown, setShown] = useState(false);
  const common = {
    ...props.control,
    name: props.name,
    value: props.value,
    autoComplete: 'off',
    spellCheck: false,
    autoCapitalize: 'off',
    placeholder: props.placeholder,
  } as const;
  return (
    <div className="secret-input">
      {props.multiline ? (
        <textarea
          {...common}
          rows={5}
          className={shown ? 'input mono' : 'input mono text-hidden'}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          {...common}
          type={shown ? 'text' : 'password'}
          className="input"
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      <button
        type="button"
        className="button button-small"
        aria-pressed={shown}
        aria-controls={props.control.id}
        aria-label={`${shown ? 'Hide' : 'Show'} ${props.label}`}
        onClick={() => setShown((s) => !s)}
      >
        {shown ? 'Hide' : 'Show'}
      </button>
    </div>
  );
}
