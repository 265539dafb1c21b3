import { useEffect, useState } from 'react';
import { client } from '../api/client';

const names = new Map<string, Promise<string>>();

function nameOf(id: string): Promise<string> {
  let name = names.get(id);
  if (name === undefined) {
    name = client.users.get(id).then(
      (u) => u.displayName || u.username,
      () => 'another user',
    );
    names.set(id, name);
  }
  return name;
}

/** A user's display name for an id (looked up once per page load). */
export function UserName({ id }: { id: string }) {
  const [name, setName] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    void nameOf(id).then((n) => {
      if (current) setName(n);
    });
    return () => {
      current = false;
    };
  }, [id]);
  return <span>{name ?? '…'}</span>;
}
