// The connection line in the header: connecting, live, reconnecting…, catching up…, refused.

const TEXT = {
  connecting: () => "Connecting…",
  live: () => "Live",
  "catching-up": ({ pending }) => `Catching up… ${pending} missed event${pending === 1 ? "" : "s"}`,
  reconnecting: ({ attempt }) => `Reconnecting… (attempt ${attempt})`,
  refused: () => "Refused: the token is wrong. Open the address deskbridge serve printed.",
};

export function mount({ connection }) {
  const line = document.getElementById("connection");
  connection.addEventListener("state", ({ detail }) => {
    line.dataset.state = detail.state;
    line.textContent = TEXT[detail.state](detail);
  });
}
