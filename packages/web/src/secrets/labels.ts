/** `env=prod, team` → `{ env: 'prod', team: '' }`; the inverse of {@link formatLabels}. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq === -1) labels[item] = '';
    else labels[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return labels;
}

export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join(', ');
}
