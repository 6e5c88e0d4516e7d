/**
 * The login page, rendered on the server: it must say whether an admin token is configured at all
 * and why a login was refused, before any script runs.
 */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export type LoginNotice = 'no-token' | 'wrong-token' | 'empty' | 'logged-out' | 'expired' | undefined;

const NOTICES: Record<Exclude<LoginNotice, undefined>, { text: string; error: boolean }> = {
  'no-token': {
    text: 'No admin token is configured, so nobody can log in. Set FIELDHOOK_ADMIN_TOKEN (16 characters or more) and restart fieldhook.',
    error: true,
  },
  'wrong-token': { text: 'That is not the admin token. Check it and try again.', error: true },
  empty: { text: 'Enter the admin token.', error: true },
  'logged-out': { text: 'You are logged out.', error: false },
  expired: { text: 'Your session has ended. Log in again.', error: false },
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
${message ? `<p class="notice${message.error ? ' error' : ''}" role="${message.error ? 'alert' : 'status'}" id="notice">${escapeHtml(message.text)}</p>` : ''}
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
