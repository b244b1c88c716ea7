// login.js - the sign-in form: POST /api/v1/login, then the dashboard.
const form = document.getElementById('login-form');
const err = document.getElementById('login-error');
const button = document.getElementById('login-button');

function showError(text) {
  err.textContent = text;
  err.hidden = false;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  err.hidden = true;
  button.disabled = true;
  try {
    const res = await fetch('/api/v1/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({
        user: form.user.value.trim(),
        password: form.password.value,
      }),
    });
    if (res.ok) {
      location.replace('/');
      return;
    }
    const body = await res.json().catch(() => ({}));
    if (res.status === 429) {
      const wait = body.retry_after || res.headers.get('Retry-After') || 'a few';
      showError(`Too many failed attempts. Try again in ${wait} s.`);
    } else if (res.status === 401) {
      showError('Wrong user or password.');
    } else {
      showError(body.error || `Sign-in failed (HTTP ${res.status}).`);
    }
  } catch (e) {
    showError('Cannot reach the server.');
  } finally {
    button.disabled = false;
  }
});
