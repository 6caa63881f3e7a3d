// Login form of the inspector: trades a tenant JWT or the admin token for a session cookie. A
// tenant JWT is also kept in sessionStorage (this tab only) so the page can join channels with it.
'use strict';
(function () {
  const form = document.getElementById('login-form');
  const err = document.getElementById('login-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const token = document.getElementById('login-token').value.trim();
    const tenant = document.getElementById('login-tenant').value.trim();
    let res, body;
    try {
      res = await fetch('/inspector/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, tenant }),
      });
      body = await res.json().catch(() => ({}));
    } catch (e) {
      err.textContent = 'request failed: ' + e;
      return;
    }
    if (!res.ok) {
      err.textContent = body.message || ('refused (' + res.status + ')');
      return;
    }
    if (body.kind === 'tenant') {
      sessionStorage.setItem('inspector.token', token);
      sessionStorage.setItem('inspector.tenant', body.tenant || '');
    }
    location.replace('/inspector');
  });
})();
