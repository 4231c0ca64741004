// The panel's grey arrow (loaded after panel.js): per-person sync options shown or hidden.
// The grey arrow beside "Sync as" shows this person's sync options. Its open state lives in a hidden
// input of the form, so the options stay open when the server re-renders them (campaign changed).
function showOptions(open) {
  const box = document.getElementById("panel-options");
  const arrow = document.getElementById("options-toggle");
  const flag = document.getElementById("options-open");
  if (flag) flag.value = open ? "1" : "";
  if (arrow) arrow.setAttribute("aria-expanded", open ? "true" : "false");
  if (box) box.hidden = !open;
}

document.body.addEventListener("click", (event) => {
  const arrow = event.target.closest && event.target.closest("#options-toggle");
  if (!arrow) return;
  showOptions(arrow.getAttribute("aria-expanded") !== "true");
});

// A re-render that was already on its way when the arrow was clicked carries the old state: the
// arrow is the truth, re-applied after every swap.
document.body.addEventListener("htmx:afterSettle", () => {
  const arrow = document.getElementById("options-toggle");
  if (arrow) showOptions(arrow.getAttribute("aria-expanded") === "true");
});
