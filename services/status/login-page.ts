/**
 * The login page, rendered on the server: it must say whether an admin token is configured at all
 * and why a login was refused, before any script runs.
 */

import { Errors } from '../shared/error-catalog.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type LoginNotice = 'no-token' | 'wrong-token' | 'empty' | 'throttled' | 'logged-out' | 'expired' | undefined;

/** What the page says; a refusal also names its error code (`data-code`), for scripts and tests. */
const NOTICES: Record<Exclude<LoginNotice, undefined>, { text: string; code?: string }> = {
  'no-token': {
    text: 'No admin token is configured, so nobody can log in. Set FIELDHOOK_ADMIN_TOKEN (16 characters or more) and restart fieldhook.',
    code: Errors.statusLoginRefused.code,
  },
  'wrong-token': { text: 'That is not the admin token. Check it and try again.', code: Errors.statusLoginRefused.code },
  empty: { text: 'Enter the admin token.', code: Errors.statusLoginRefused.code },
  throttled: { text: 'Too many wrong tokens from this address. Wait a minute, then try again.', code: Errors.statusLoginThrottled.code },
  'logged-out': { text: 'You are logged out.' },
  expired: { text: 'Your session has ended. Log in again.' },
};

export function loginPage(notice: LoginNotice): string {
  const message = notice ? NOTICES[notice] : undefined;
  const noToken = notice === 'no-token';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fieldhook · log in</title>
<link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/style.css">
</head>
<body class="login">
<main class="login-box">
<h1><img src="/ui/assets/icon.svg" alt="" width="28" height="28"> fieldhook</h1>
<p class="muted">Log in with the admin token: <code>FIELDHOOK_ADMIN_TOKEN</code>, or when that is not set, the one <code>fieldhook start</code> printed and keeps in the file <code>admin-token</code> of its data folder.</p>
${message ? `<p class="notice${message.code ? ' error' : ''}" role="${message.code ? 'alert' : 'status'}" id="notice"${message.code ? ` data-code="${message.code}"` : ''}>${escapeHtml(message.text)}</p>` : ''}
<form method="post" action="/ui/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required${noToken ? ' disabled' : ' autofocus'}>
<button type="submit"${noToken ? ' disabled' : ''}>Log in</button>
</form>
</main>
</body>
</html>
`;
}
