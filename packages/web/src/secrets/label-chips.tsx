/** Labels as small chips (`env=prod`). */
export function LabelChips({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return null;
  return (
    <ul className="chips" aria-label="Labels">
      {entries.map(([k, v]) => (
        <li key={k} className="chip">
          {v === '' ? k : `${k}=${v}`}
        </li>
      ))}
    </ul>
  );
}
