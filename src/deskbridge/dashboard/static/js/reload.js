// Reloads that coalesce: a reload asked for while one runs happens once, after it.

export function reloader(load) {
  let running = null;
  let again = false;
  const run = async () => {
    try {
      do {
        again = false;
        await load();
      } while (again);
    } finally {
      running = null;
    }
  };
  return () => {
    if (running) again = true;
    else running = run();
    return running;
  };
}
