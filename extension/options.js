// Options: where the Shoal server is and the user's extension token (chrome.storage.local).
const DEFAULT_SERVER = "http://127.0.0.1:5000";
const form = document.getElementById("options");
const statusLine = document.getElementById("status");

function say(message, ok) {
  statusLine.textContent = message;
  statusLine.className = ok ? "ok" : "panel-error";
}

function readForm() {
  const server = form.elements.serverUrl.value.trim().replace(/\/+$/, "") || DEFAULT_SERVER;
  const url = new URL(server); // throws on a malformed address
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("use an http(s) address");
  return { serverUrl: server, token: form.elements.token.value.trim() };
}

// The stored values arrive asynchronously: a field the user has already typed into keeps what
// they typed (filling it afterwards would silently swap their address back to the default).
chrome.storage.local.get(["serverUrl", "token"]).then((stored) => {
  const fill = (field, value) => {
    if (!field.value) field.value = value;
  };
  fill(form.elements.serverUrl, stored.serverUrl || DEFAULT_SERVER);
  fill(form.elements.token, stored.token || "");
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await chrome.storage.local.set(readForm());
    say("Saved.", true);
  } catch (error) {
    say(`Not saved: ${error.message}.`, false);
  }
});

// Calls /panel/api/me with the values in the form (saved or not), so a typo shows before saving.
document.getElementById("test").addEventListener("click", async () => {
  try {
    const { serverUrl, token } = readForm();
    const response = await fetch(`${serverUrl}/panel/api/me`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || `the server answered ${response.status}`);
    const crm = body.crm
      ? ` · ${body.crm.name || body.crm.provider} (${body.crm.status})`
      : " · no CRM connected";
    say(`Connected as ${body.user.email}, team ${body.team.name}${crm}.`, true);
  } catch (error) {
    say(`Test failed: ${error.message}`, false);
  }
});
