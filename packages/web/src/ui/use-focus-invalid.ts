import { useEffect } from 'react';

/**
 * After a submit the server refused, moves focus to the first field it named (marked
 * `aria-invalid` by then, since effects run after the render that shows the messages).
 */
export function useFocusFirstInvalid(cause: unknown): void {
  useEffect(() => {
    if (cause === undefined) return;
    document.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [cause]);
}
