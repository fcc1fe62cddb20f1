// On the "token needed" page: a tab that was given the token before (a reload) asks again with it.
// A token in the address that was refused is forgotten, so a wrong one never loops.

import { forgetToken, keptToken } from "./session.js";

const url = new URL(location.href);
if (url.searchParams.has("token")) {
  forgetToken();
} else if (keptToken()) {
  url.searchParams.set("token", keptToken());
  location.replace(url.href);
}
