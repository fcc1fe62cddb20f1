// One view at a time, chosen by the address's #fragment; only the apps served are offered.

/** Show what belongs to the served apps (nav links, views, cards); hide the rest. */
export function showApps(apps) {
  for (const element of document.querySelectorAll("[data-app]")) {
    element.hidden = !apps.includes(element.dataset.app);
  }
}

/** Hide the controls of commands this token may not run (a child's client token: the parent's controls). */
export function hideDenied(denied) {
  for (const element of document.querySelectorAll("[data-command]")) {
    if (denied.includes(element.dataset.command)) element.hidden = true;
  }
}

/** Route #fragments to views; the first view of a served app is the default. */
export function route(apps) {
  const views = [...document.querySelectorAll("main > .view")].filter(
    (view) => !view.dataset.app || apps.includes(view.dataset.app),
  );
  const show = () => {
    const current = views.find((view) => `#${view.id}` === location.hash) || views[0];
    for (const view of views) view.hidden = view !== current;
    for (const link of document.querySelectorAll("nav a")) {
      if (link.getAttribute("href") === `#${current.id}`) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    return current;
  };
  for (const view of views) view.tabIndex = -1;
  show();
  window.addEventListener("hashchange", () => {
    // The view starts at the top of the page, its heading below the sticky header, not under it.
    window.scrollTo(0, 0);
    show().focus({ preventScroll: true });
  });
}
