import { useState } from 'react';

/** Copies a text to the clipboard and says so; where the clipboard is refused, selects it instead. */
export function CopyButton({
  text,
  label = 'Copy',
  targetId,
}: {
  text: string;
  label?: string;
  targetId?: string;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'select'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      const target = targetId === undefined ? null : document.getElementById(targetId);
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) target.select();
      setState('select');
    }
    setTimeout(() => setState('idle'), 3000);
  };
  return (
    <>
      <button type="button" className="button" onClick={copy}>
        {state === 'copied' ? 'Copied' : label}
      </button>
      <span className="visually-hidden" role="status">
        {state === 'copied'
          ? 'Copied to the clipboard'
          : state === 'select'
            ? 'Selected: press Ctrl+C to copy'
            : ''}
      </span>
    </>
  );
}
