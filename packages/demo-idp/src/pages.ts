import type { DemoUser } from './users';

/**
 * Element ids of the login page, for browser tests that sign in through it
 * (`page.fill(loginFormSelectors.username, 'alice')`, …).
 */
export const loginFormSelectors = Object.freeze({
  form: '#login-form',
  username: '#username',
  password: '#password',
  submit: '#sign-in',
  error: '#login-error',
});

const escapeHtml = (value: string) =>
  value.replace(
    /[&<>"']/g,
    c =>
      ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[
        c
      ]!),
  );

const STYLE = `body{font-family:system-ui,sans-serif;background:#f5f5f5;margin:0}
main{max-width:420px;margin:48px auto;background:#fff;padding:24px 32px;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.2)}
label{display:block;margin-top:12px}input{width:100%;box-sizing:border-box;padding:8px;font-size:1em}
button{margin-top:16px;padding:8px 16px;font-size:1em}.error{color:#b00020}
.note{color:#555;font-size:.9em}table{border-collapse:collapse;margin-top:8px}td{padding:2px 8px 2px 0}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body><main>
${body}
</main></body>
</html>`;
}

export function loginPage(options: {
  uid: string;
  clientName: string;
  users: readonly DemoUser[];
  username?: string;
  error?: string;
}): string {
  const { uid, clientName, users, username, error } = options;
  const action = `/interaction/${encodeURIComponent(uid)}/login`;
  const rows = users
    .map(
      u =>
        `<tr><td><code>${escapeHtml(u.username)}</code></td><td>${escapeHtml(
          u.persona,
        )}</td></tr>`,
    )
    .join('\n');
  return page(
    'Sign in — KMP demo identity provider',
    `<h1>Sign in</h1>
<p>to <strong>${escapeHtml(
      clientName,
    )}</strong> with the KMP demo identity provider.</p>
${
  error
    ? `<p id="login-error" class="error" role="alert">${escapeHtml(error)}</p>`
    : ''
}
<form id="login-form" method="post" action="${action}" autocomplete="off">
<label for="username">Username</label>
<input id="username" name="username" type="text" required autofocus value="${escapeHtml(
      username ?? '',
    )}">
<label for="password">Password</label>
<input id="password" name="password" type="password" required>
<button id="sign-in" type="submit">Sign in</button>
</form>
<p class="note">Demo only: the password of each demo user is the username.</p>
<table>${rows}</table>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p id="error" class="error">${escapeHtml(message)}</p>`,
  );
}
