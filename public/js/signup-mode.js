// signup-mode.js — how the register and login pages follow the server's
// registration mode (GET /api/config "registration"):
//
// - open:   the tutorial's form, as before;
// - invite: the register page asks for an invite code (filled in from an
//           invite link, register.html?invite=CODE) and sends it as "invite";
// - closed: the register page says sign-up is closed instead of showing a
//           form, and the login page hides its "create an account" link.
//
// The server enforces the mode whatever a page shows; this only spares people
// a form that cannot work. If the settings cannot be read, the pages behave
// as in open mode, and the server's answer (403 with its key) says the rest.

import { serverConfig } from "./api.js";
import { registerMessages } from "./i18n.js";
import signupMessages from "./messages/signup.js";

registerMessages(signupMessages);

async function registrationMode() {
  try {
    const config = await serverConfig();
    return (config && config.registration) || "open";
  } catch {
    return "open";
  }
}

/** The register page: show the invite field or the closed notice. Returns the code to send, or null. */
export async function applyRegistrationMode() {
  const field = document.getElementById("inviteField");
  const input = document.getElementById("invite");
  const fromLink = new URLSearchParams(location.search).get("invite");
  if (fromLink) input.value = fromLink;
  const mode = await registrationMode();
  if (mode === "closed") {
    document.getElementById("registerForm").hidden = true;
    document.getElementById("closedNotice").hidden = false;
  }
  field.hidden = !(mode === "invite" || fromLink);
  return () => (field.hidden ? null : input.value.trim());
}

/** The login page: no "create an account" link while sign-up is closed. */
export async function hideSignupLinkWhenClosed() {
  if ((await registrationMode()) === "closed") document.getElementById("signupLink").hidden = true;
}
