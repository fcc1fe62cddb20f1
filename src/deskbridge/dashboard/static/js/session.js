// The token: taken from the address once, kept in sessionStorage (this tab only), out of the address bar.

const KEY = "deskbridge.token";

/** The token given as ?token= (then removed from the address bar), else the one kept from before. */
export function takeToken() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token");
  if (given) {
    sessionStorage.setItem(KEY, given);
    url.searchParams.delete("token");
    history.replaceState(history.state, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY);
}

export function keptToken() {
  return sessionStorage.getItem(KEY);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
