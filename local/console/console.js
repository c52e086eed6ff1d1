// Sphere local console. Plain JS, no framework, no external assets.
// Every piece of data (it comes from Sequence) reaches the page through textContent or form values,
// never as HTML; the server's Content-Security-Policy enforces Trusted Types to keep it that way.
'use strict';

(() => {
  const TOKEN_KEY = 'sphere-console-token';
  const NOT_YET = 'This part of the console is not available on this server yet.';
  const state = { org: null, conn: null, previous: null, taxCodes: null, ledgerNext: null, quarantineNext: null };

  // ---------- DOM helpers ----------
  const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

  /** Creates an element; `props` sets properties (className, dataset…), children are nodes or text. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k === 'testid') node.dataset.testid = v;
      else if (k.startsWith('aria-') || k === 'scope' || k === 'role') node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  const show = (node, visible) => { node.hidden = !visible; };
  const clear = (node) => node.replaceChildren();

  function setState(section, value) { $(section).dataset.state = value; }

  // ---------- messages ----------
  function showError(message) {
    // shown first, then filled, so screen readers announce the text as it arrives in the alert region
    $('alert-text').textContent = '';
    show($('alert'), true);
    $('alert-text').textContent = message;
    $('status').textContent = '';
  }
  function clearError() {
    show($('alert'), false);
    $('alert-text').textContent = '';
  }
  let statusTimer = null;
  function showStatus(message) {
    $('status').textContent = message;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { $('status').textContent = ''; }, 8000);
  }

  // ---------- formatting ----------
  function fmtTime(value) {
    if (value === null || value === undefined || value === '') return '—';
    const d = typeof value === 'number' ? new Date(value) : new Date(String(value));
    if (Number.isNaN(d.getTime())) return String(value);
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }
  const fmt = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
  const words = (k) => k.replace(/_/g, ' ');
  const ENV_LABEL = { sandbox: 'Sequence sandbox', production: 'Sequence production' };
  const STATUS_LABEL = { active: 'Active', needs_attention: 'Needs attention', disconnected: 'Disconnected' };

  const OUTCOME_LABEL = {
    done: 'completed', more_work: 'paused, continuing', busy: 'skipped (another run was active)',
    unauthorized: 'credentials refused', source_unavailable: 'Sequence unavailable', failed: 'failed',
    lease_lost: 'taken over by another run',
  };

  /**
   * The name of a run's outcome. The sync function writes it nested and tagged
   * (`{outcome: {outcome: 'done'}}`, `{outcome: {outcome: 'failed', message}}`); older records and other
   * writers used a plain string. Never an object: `String({})` is "[object Object]".
   */
  function outcomeName(o, depth = 0) {
    if (typeof o === 'string') return o || null;
    if (o && typeof o === 'object' && depth < 3) return outcomeName(o.outcome ?? o.status ?? o.name ?? o.result, depth + 1);
    return null;
  }
  const outcomeLabel = (name) => OUTCOME_LABEL[name] || words(name);
  /** A short text for a value that may be an object (an error, a message), never "[object Object]". */
  function textOf(v) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v !== 'object') return String(v);
    if (typeof v.message === 'string') return v.message;
    try { return JSON.stringify(v); } catch (_) { return ''; }
  }

  /**
   * The sync function's record of a run: `{outcome: {outcome, message?}, action, summary: {…counters},
   * requeued_after_ms?}`. One line: when it finished, how it ended, what it counted.
   */
  function describeRun(s) {
    const sum = s.summary;
    const name = outcomeName(s.outcome) || outcomeName(sum.outcome);
    const parts = [];
    if (typeof sum.started_at_ms === 'number') parts.push(fmtTime(sum.started_at_ms + (Number(sum.duration_ms) || 0)));
    if (name) parts.push(outcomeLabel(name));
    const counts = ['seen', 'created', 'updated', 'quarantined']
      .filter((k) => typeof sum[k] === 'number' && (sum[k] > 0 || k === 'seen'))
      .map((k) => `${sum[k]} ${k}`);
    if (counts.length) parts.push(counts.join(', '));
    if (typeof s.requeued_after_ms === 'number' && s.requeued_after_ms > 0) {
      parts.push(`Sequence asked to wait: continuing in ${Math.ceil(s.requeued_after_ms / 60000)} min`);
    }
    return parts.join(' · ') || 'Done';
  }

  /** One line describing a sync summary of unknown exact shape: its time, outcome and counts. */
  function describeSync(s) {
    if (!s) return 'Not yet';
    if (typeof s !== 'object') return String(s);
    if (s.summary && typeof s.summary === 'object') return describeRun(s);
    const parts = [];
    const when = s.finished_at || s.completed_at || s.ended_at || s.at || s.started_at || s.finished_at_ms || s.at_ms;
    if (when && typeof when !== 'object') parts.push(fmtTime(when));
    const name = outcomeName(s.status) || outcomeName(s.outcome) || outcomeName(s.result);
    if (name) parts.push(outcomeLabel(name));
    const counts = [];
    const addCounts = (obj) => {
      for (const [k, v] of Object.entries(obj || {})) {
        if (typeof v === 'number' && !k.endsWith('_ms')) counts.push(`${v} ${words(k)}`);
      }
    };
    addCounts(s);
    if (s.counts && typeof s.counts === 'object') addCounts(s.counts);
    if (counts.length) parts.push(counts.join(', '));
    const error = textOf(s.error) || (s.outcome && typeof s.outcome === 'object' ? textOf(s.outcome.message) : '');
    if (error) parts.push(`error: ${error}`);
    return parts.length ? parts.join(' · ') : 'Done';
  }

  // ---------- API ----------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${token()}`, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'network', `Could not reach sphere-local (${e.message}). Is it still running?`);
    }
    let data = null;
    const text = await resp.text();
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!resp.ok) {
      const err = data && data.error;
      const message = err && typeof err.message === 'string' ? err.message : `The server answered HTTP ${resp.status}.`;
      const code = err && typeof err.code === 'string' ? err.code : 'http_' + resp.status;
      if (resp.status === 401) signOut(message);
      throw new ApiError(resp.status, code, message);
    }
    return data;
  }

  /** Runs `fn` with `button` disabled; an API error goes to the alert region. */
  async function act(button, fn) {
    clearError();
    if (button) button.disabled = true;
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) showError(e.message || String(e));
      return undefined;
    } finally {
      if (button) button.disabled = false;
    }
  }

  /** Loads an optional section: a 404 means its route is not on this server yet. */
  async function optional(section, note, fn) {
    setState(section, 'loading');
    show($(note), false); // `fn` may show it again with something to say (an empty list, say)
    try {
      await fn();
      setState(section, 'ready');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        $(note).textContent = NOT_YET;
        show($(note), true);
        setState(section, 'unavailable');
      } else {
        setState(section, 'error');
        if (!(e instanceof ApiError && e.status === 401)) showError(e.message || String(e));
      }
    }
  }

  // ---------- token ----------
  function takeTokenFromFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (!params.has('token')) return;
    const t = params.get('token').trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    // the token must not stay in the address bar, the history or a bookmark
    history.replaceState(null, '', location.pathname + location.search);
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    show($('app'), false);
    show($('org'), false);
    show($('token-section'), true);
    document.body.dataset.ready = 'false';
    if (message) showError(message);
    $('token-input').focus();
  }

  // ---------- organization ----------
  function renderOrg(org) {
    $('org-id').textContent = org.org_id;
    const badge = $('mode-badge');
    const live = org.mode === 'live';
    badge.textContent = live ? 'LIVE' : 'TEST';
    badge.className = `badge ${live ? 'live' : 'test'}`;
    badge.title = live ? 'Live organization: real taxes, Sequence production' : 'Test organization: Sequence sandbox';
    show($('org'), true);
  }

  // ---------- Sequence connection ----------
  async function loadConnection() {
    const data = await api('GET', '/v1/sequence/connections');
    const items = (data && data.items) || [];
    state.conn = items.find((c) => c.status !== 'disconnected') || null;
    state.previous = items.find((c) => c.status === 'disconnected') || null;
    renderConnection();
    if (state.conn) await loadKeys();
  }

  function renderConnection() {
    const c = state.conn;
    const formOpen = !$('connect-form').hidden;
    show($('connection-card'), Boolean(c));
    show($('not-connected'), !c && !formOpen);
    setState('sequence-tile', c ? 'connected' : 'not-connected');
    if (!c) {
      const prev = state.previous;
      $('not-connected-note').textContent = prev
        ? `Disconnected from ${prev.company_name || prev.sequence_account_id}. Connect again to resume the sync; your ledger was kept.`
        : 'Not connected. You need a Client ID and Client Secret from Sequence (Settings → API Keys).';
      show($('disconnect-confirm'), false);
      show($('new-key'), false);
      $('new-key-value').value = '';
      return;
    }
    const pill = $('conn-status');
    pill.textContent = STATUS_LABEL[c.status] || c.status;
    pill.className = `pill ${c.status}`;
    $('conn-company').textContent = c.company_name || 'Unnamed company';
    $('conn-status-reason').textContent = c.status_reason || '';
    show($('conn-status-reason'), Boolean(c.status_reason));
    renderFailure(c.sync_failure);
    $('conn-environment').textContent = ENV_LABEL[c.environment] || c.environment;
    $('conn-account').textContent = c.sequence_account_id;
    $('conn-last-sync').textContent = describeSync(c.last_sync);
    $('conn-next-sync').textContent = c.next_sync_at_ms ? fmtTime(c.next_sync_at_ms) : '—';
    const w = c.webhooks;
    $('conn-webhooks').textContent = !w
      ? 'not set up (connected before webhooks): changes arrive with the scheduled sync'
      : w.enabled
        ? 'on: changes in Sequence reach the ledger within seconds'
        : `off: ${fmt(w.reason)}`;
    $('conn-webhooks').dataset.enabled = String(Boolean(w && w.enabled));
  }

  /** While sync runs fail: since when, why, and when it is retried (the backoff's slot). */
  function renderFailure(f) {
    const node = $('conn-sync-failing');
    show(node, Boolean(f));
    if (!f) {
      node.textContent = '';
      return;
    }
    const n = Number(f.consecutive_failures) || 1;
    const retry = f.retry_at_ms ? `, next retry at ${fmtTime(f.retry_at_ms)}` : '';
    node.textContent = `Sync failing since ${fmtTime(f.failing_since_ms)}${retry}: ${fmt(f.last_error)} ` +
      `(${plural(n, 'failed run', 'failed runs')} in a row; Sphere keeps retrying, less often the longer it fails, at least every 6 hours).`;
  }

  function openConnectForm(mode) {
    const form = $('connect-form');
    form.dataset.mode = mode;
    const env = state.org && state.org.mode === 'live' ? 'production' : 'sandbox';
    $('connect-form-title').textContent = mode === 'rotate' ? 'Update Sequence credentials' : 'Connect Sequence';
    $('connect-form-hint').textContent = mode === 'rotate'
      ? 'Paste the new Client ID and Client Secret of the same Sequence account.'
      : `This ${state.org && state.org.mode === 'live' ? 'live' : 'test'} organization connects to Sequence ${env}. ` +
        'Create an API client in Sequence (Settings → API Keys) and paste its Client ID and Client Secret.';
    $('connect-submit').textContent = mode === 'rotate' ? 'Update' : 'Connect';
    show(form, true);
    show($('not-connected'), false);
    $('client-id').focus();
  }

  function closeConnectForm() {
    const form = $('connect-form');
    form.reset();
    show(form, false);
    renderConnection();
  }

  async function submitConnect(ev) {
    ev.preventDefault();
    const form = $('connect-form');
    const body = { client_id: $('client-id').value.trim(), client_secret: $('client-secret').value };
    if (!body.client_id || !body.client_secret) {
      showError('Enter both the Client ID and the Client Secret.');
      return;
    }
    const rotate = form.dataset.mode === 'rotate' && state.conn;
    await act($('connect-submit'), async () => {
      const conn = rotate
        ? await api('PUT', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}/credentials`, body)
        : await api('POST', '/v1/sequence/connections', body);
      state.conn = conn;
      closeConnectForm();
      showStatus(rotate
        ? 'Credentials updated.'
        : `Connected to ${conn.company_name || 'Sequence'} (${conn.sequence_account_id}). Next: generate a Sphere API key for Sequence.`);
      await loadKeys();
      loadQuarantine(false);
      refreshAudit();
      $('generate-key').focus();
    });
    // on failure the form stays open with what was typed, so it can be corrected
  }

  async function syncNow() {
    if (!state.conn) return;
    await act($('sync-now'), async () => {
      await api('POST', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}/sync`);
      showStatus('Sync queued. New products and transactions appear here when it finishes.');
      $('sync-now').dataset.queued = 'true';
      // pick up the result without a reload
      for (const ms of [3000, 10000]) setTimeout(refreshAfterSync, ms);
    });
  }

  async function refreshAfterSync() {
    try {
      if (state.conn) {
        state.conn = await api('GET', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}`);
        renderConnection();
      }
    } catch (_) { /* the next action shows any error */ }
    // do not re-render a table under the user's hands (an open tax-code picker, a typed filter)
    const busy = (id) => $(id).contains(document.activeElement);
    if (!busy('products-body')) loadProducts();
    if (!busy('ledger-section')) loadLedger(false);
    if (!busy('quarantine-section')) loadQuarantine(false);
    refreshAudit();
  }

  async function disconnect() {
    if (!state.conn) return;
    await act($('disconnect-yes'), async () => {
      const after = await api('DELETE', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}`);
      state.previous = after;
      state.conn = null;
      show($('disconnect-confirm'), false);
      renderConnection();
      showStatus('Disconnected. The sync stopped and the API keys of this connection were revoked.');
      loadQuarantine(false);
      refreshAudit();
    });
  }

  // ---------- API keys ----------
  async function loadKeys() {
    if (!state.conn) return;
    const data = await api('GET', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}/api-keys`);
    renderKeys((data && data.items) || []);
  }

  function renderKeys(keys) {
    const body = $('keys-body');
    clear(body);
    show($('keys-table'), keys.length > 0);
    show($('keys-empty'), keys.length === 0);
    for (const k of keys) {
      const revoked = Boolean(k.revoked_at);
      const actions = el('td', { className: 'num' });
      if (!revoked) {
        const b = el('button', { type: 'button', className: 'danger', testid: 'revoke-key' }, 'Revoke');
        b.setAttribute('aria-label', `Revoke key ${k.prefix}`);
        b.addEventListener('click', () => revokeKey(k, b));
        actions.append(b);
      }
      body.append(el('tr', { className: revoked ? 'revoked' : '', testid: 'key-row', dataset: { keyId: k.id } },
        el('td', {}, el('code', { testid: 'key-prefix', title: 'Only the start and the end of the key are kept' }, k.prefix)),
        el('td', {}, fmtTime(k.created_at)),
        el('td', { testid: 'key-status' }, revoked ? `Revoked ${fmtTime(k.revoked_at)}` : 'Active'),
        actions));
    }
  }

  async function generateKey() {
    if (!state.conn) return;
    await act($('generate-key'), async () => {
      const res = await api('POST', `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}/api-keys`);
      const input = $('new-key-value');
      input.value = res.api_key;
      $('new-key-notice').textContent = res.notice || '';
      show($('new-key'), true);
      input.focus();
      input.select();
      showStatus('API key generated. Copy it into Sequence now.');
      await loadKeys();
      refreshAudit();
    });
  }

  async function copyKey() {
    const input = $('new-key-value');
    try {
      await navigator.clipboard.writeText(input.value);
      showStatus('Copied to the clipboard.');
    } catch (_) {
      input.focus();
      input.select();
      const ok = document.execCommand && document.execCommand('copy');
      if (ok) showStatus('Copied to the clipboard.');
      else showError('The browser did not allow copying. The key is selected: press Ctrl+C (⌘C on a Mac).');
    }
  }

  function hideNewKey() {
    $('new-key-value').value = '';
    $('new-key-notice').textContent = '';
    show($('new-key'), false);
    $('generate-key').focus();
  }

  /** Destructive buttons ask twice: the first click arms them for five seconds. */
  function armed(button, label) {
    if (button.dataset.armed === 'true') return true;
    const original = button.textContent;
    button.dataset.armed = 'true';
    button.textContent = label;
    setTimeout(() => {
      if (button.isConnected) {
        button.dataset.armed = 'false';
        button.textContent = original;
      }
    }, 5000);
    return false;
  }

  async function revokeKey(k, button) {
    if (!armed(button, 'Click again to revoke')) return;
    await act(button, async () => {
      const res = await api('DELETE',
        `/v1/sequence/connections/${encodeURIComponent(state.conn.id)}/api-keys/${encodeURIComponent(k.id)}`);
      showStatus((res && res.notice) || 'Key revoked.');
      await loadKeys();
      refreshAudit();
    });
  }

  // ---------- tax codes & settings ----------
  async function loadTaxCodes() {
    try {
      const data = await api('GET', '/v1/tax-codes');
      state.taxCodes = (data && data.items) || [];
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) state.taxCodes = null;
      else throw e;
    }
  }

  function taxCodeOptions(select, current, emptyLabel) {
    clear(select);
    select.append(el('option', { value: '' }, emptyLabel));
    const codes = state.taxCodes || [];
    for (const c of codes) {
      const o = el('option', { value: c.id }, c.name ? `${c.name} (${c.id})` : c.id);
      if (c.description) o.title = c.description;
      select.append(o);
    }
    if (current && !codes.some((c) => c.id === current)) select.append(el('option', { value: current }, current));
    select.value = current || '';
  }

  async function loadSettings() {
    await optional('settings-section', 'settings-note', async () => {
      const s = await api('GET', '/v1/settings');
      $('settings-rounding').value = s.rounding || 'line';
      taxCodeOptions($('settings-default-tax-code'), s.default_product_tax_code, '— None —');
      show($('settings-form'), true);
    });
    if ($('settings-section').dataset.state !== 'ready') show($('settings-form'), false);
  }

  async function saveSettings(ev) {
    ev.preventDefault();
    await act($('settings-save'), async () => {
      const code = $('settings-default-tax-code').value;
      await api('PUT', '/v1/settings', { rounding: $('settings-rounding').value, default_product_tax_code: code || null });
      showStatus('Settings saved.');
      refreshAudit();
    });
  }

  /** Every page of a paged route (`next` → `after`), at most `maxPages` of them. */
  async function allPages(path, maxPages = 200) {
    const items = [];
    let after = null;
    for (let i = 0; i < maxPages; i++) {
      const sep = path.includes('?') ? '&' : '?';
      const data = await api('GET', after ? `${path}${sep}after=${encodeURIComponent(after)}` : path);
      items.push(...((data && data.items) || []));
      after = data && data.next;
      if (!after) break;
    }
    return items;
  }

  // ---------- products ----------
  async function loadProducts() {
    await optional('products-section', 'products-note', async () => {
      renderProducts(await allPages('/v1/products?limit=100'));
    });
    if ($('products-section').dataset.state === 'unavailable') show($('products-table'), false);
  }

  function renderProducts(items) {
    const body = $('products-body');
    clear(body);
    show($('products-table'), items.length > 0);
    if (items.length === 0) {
      $('products-note').textContent = state.conn
        ? 'No products yet. They appear after the first sync.'
        : 'No products yet. Connect Sequence to import them.';
    }
    const noCodes = state.taxCodes === null;
    for (const p of items) {
      const select = el('select', { testid: 'product-tax-code' });
      select.setAttribute('aria-label', `Sphere tax code for ${p.name || p.product_id}`);
      taxCodeOptions(select, p.tax_code, '— Default —');
      select.dataset.saved = p.tax_code || '';
      select.disabled = noCodes;
      select.addEventListener('change', () => setProductTaxCode(p, select));
      body.append(el('tr', { testid: 'product-row', dataset: { productId: p.product_id } },
        el('td', {}, el('span', { testid: 'product-name' }, p.name || p.product_id), el('br'),
          el('code', { className: 'muted' }, p.product_id)),
        el('td', {}, fmt(p.sequence_tax_category)),
        el('td', {}, select)));
    }
    // show the note only when it says something the table doesn't
    const note = $('products-note');
    show(note, items.length === 0 || noCodes);
    if (items.length > 0 && noCodes) note.textContent = 'Tax codes cannot be listed by this server yet, so they cannot be assigned here.';
  }

  async function setProductTaxCode(p, select) {
    const value = select.value;
    select.disabled = true;
    clearError();
    try {
      await api('PUT', `/v1/products/${encodeURIComponent(p.product_id)}/tax-code`, { tax_code: value || null });
      select.dataset.saved = value;
      showStatus(`Tax code of ${p.name || p.product_id} set to ${value || 'the default'}.`);
      refreshAudit();
    } catch (e) {
      select.value = select.dataset.saved;
      if (!(e instanceof ApiError && e.status === 401)) showError(e.message);
    } finally {
      select.disabled = false;
    }
  }

  // ---------- registrations ----------
  function regPath(r) {
    return `/v1/registrations/${encodeURIComponent(r.country)}${r.region ? `/${encodeURIComponent(r.region)}` : ''}`;
  }

  async function loadRegistrations() {
    await optional('registrations-section', 'registrations-note', async () => {
      const data = await api('GET', '/v1/registrations');
      renderRegistrations((data && data.items) || []);
      show($('registrations-content'), true);
    });
    if ($('registrations-section').dataset.state !== 'ready') show($('registrations-content'), false);
  }

  function renderRegistrations(items) {
    const body = $('registrations-body');
    clear(body);
    show($('registrations-table'), items.length > 0);
    show($('registrations-empty'), items.length === 0);
    for (const r of items) {
      const del = el('button', { type: 'button', className: 'danger', testid: 'reg-delete' }, 'Delete');
      const where = r.region ? `${r.country}-${r.region}` : r.country;
      del.setAttribute('aria-label', `Delete the registration for ${where}`);
      del.addEventListener('click', () => deleteRegistration(r, del));
      body.append(el('tr', { testid: 'reg-row', dataset: { country: r.country, region: r.region || '' } },
        el('td', {}, r.country), el('td', {}, fmt(r.region)), el('td', {}, fmt(r.effective_from)),
        el('td', {}, fmt(r.effective_to)), el('td', {}, r.collect ? 'Yes' : 'No'),
        el('td', {}, fmt(r.registration_number)), el('td', { className: 'num' }, del)));
    }
  }

  async function saveRegistration(ev) {
    ev.preventDefault();
    const country = $('reg-country').value.trim().toUpperCase();
    const region = $('reg-region').value.trim().toUpperCase();
    const body = { effective_from: $('reg-from').value, collect: $('reg-collect').checked };
    const number = $('reg-number').value.trim();
    if (number) body.registration_number = number;
    await act($('reg-submit'), async () => {
      await api('PUT', regPath({ country, region }), body);
      $('registration-form').reset();
      $('reg-collect').checked = true;
      showStatus(`Registration for ${region ? `${country}-${region}` : country} saved.`);
      await loadRegistrations();
      refreshAudit();
    });
  }

  async function deleteRegistration(r, button) {
    if (!armed(button, 'Click again to delete')) return;
    await act(button, async () => {
      await api('DELETE', regPath(r));
      showStatus(`Registration for ${r.region ? `${r.country}-${r.region}` : r.country} deleted.`);
      await loadRegistrations();
      refreshAudit();
    });
  }

  // ---------- ledger ----------
  function ledgerQuery() {
    const q = new URLSearchParams();
    const from = $('filter-from').value;
    const to = $('filter-to').value;
    const region = $('filter-region').value.trim().toUpperCase();
    const type = $('filter-type').value;
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    if (region) q.set('region', region);
    if (type) q.set('type', type);
    return { q, from, to, region };
  }

  async function loadLedger(append) {
    await optional('ledger-section', 'ledger-note', async () => {
      const { q, from, to, region } = ledgerQuery();
      q.set('limit', '50');
      if (append && state.ledgerNext) q.set('after', state.ledgerNext);
      const page = await api('GET', `/v1/ledger/transactions?${q}`);
      const items = (page && page.items) || [];
      const rows = items.map(ledgerRow);
      if (append) $('ledger-body').append(...rows);
      else $('ledger-body').replaceChildren(...rows);
      state.ledgerNext = (page && page.next) || null;
      show($('ledger-more'), Boolean(state.ledgerNext));
      show($('ledger-empty'), $('ledger-body').children.length === 0);
      if (!append) await loadSummary(from, to, region);
    });
    const available = $('ledger-section').dataset.state === 'ready';
    show($('ledger-filters'), available);
    show($('ledger-table'), available);
    if (!available) {
      show($('ledger-empty'), false);
      show($('ledger-more'), false);
    }
  }

  function ledgerRow(t) {
    return el('tr', { testid: 'ledger-row', dataset: { id: t.id } },
      el('td', {}, fmt(t.event_date)), el('td', {}, t.type === 'refund' ? 'Refund' : t.type === 'sale' ? 'Sale' : fmt(t.type)),
      el('td', {}, fmt(t.status)), el('td', {}, fmt(t.document_number)), el('td', {}, fmt(t.customer_name)),
      el('td', {}, fmt(t.region)), el('td', {}, fmt(t.currency)),
      el('td', { className: 'num' }, fmt(t.net)), el('td', { className: 'num' }, fmt(t.tax_collected)),
      el('td', { className: 'num' }, fmt(t.tax_calculated)));
  }

  /** Exact sum of decimal strings ("12.30", "-4", 7); null if one is not a plain decimal. */
  function decimalSum(values) {
    const parsed = [];
    let scale = 0;
    for (const v of values) {
      if (v === null || v === undefined) continue;
      const m = /^([-+])?(\d+)(?:\.(\d+))?$/.exec(String(v).trim());
      if (!m) return null;
      parsed.push(m);
      scale = Math.max(scale, (m[3] || '').length);
    }
    let total = 0n;
    for (const [, sign, int, frac = ''] of parsed) {
      const n = BigInt(int + frac.padEnd(scale, '0'));
      total += sign === '-' ? -n : n;
    }
    const negative = total < 0n;
    const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
    const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
    return (negative ? '-' : '') + text;
  }

  const plural = (n, one, many) => `${fmt(n)} ${n === 1 ? one : many}`;

  /** The summary's pages (each the totals of up to 5,000 transactions) added up per (region, currency), exactly. */
  function mergeSummaryPages(rows) {
    const merged = new Map();
    const money = ['gross_sales', 'taxable_sales', 'tax_collected', 'tax_calculated'];
    const counts = ['count', 'sales_count', 'refund_count', 'uncalculated_count'];
    for (const r of rows) {
      const key = `${r.region}\u0000${r.currency}`;
      const m = merged.get(key);
      if (!m) { merged.set(key, { ...r }); continue; }
      for (const f of money) m[f] = decimalSum([m[f], r[f]]);
      for (const f of counts) m[f] = (Number(m[f]) || 0) + (Number(r[f]) || 0);
    }
    return [...merged.values()];
  }

  /** Totals from /v1/ledger/summary: one footer row per currency, and the breakdown by region. */
  async function loadSummary(from, to, region) {
    const foot = $('ledger-totals');
    const byRegion = $('ledger-by-region-body');
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    let pages;
    try {
      pages = await allPages(`/v1/ledger/summary?${q}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return; // totals not available on this server yet
      throw e;
    }
    // replaced only once the answer is here, so a refresh does not flicker
    clear(foot);
    clear(byRegion);
    const items = mergeSummaryPages(pages).filter((s) => !region || String(s.region).toUpperCase() === region);
    const currencies = [...new Set(items.map((s) => s.currency))].sort();
    for (const cur of currencies) {
      const rows = items.filter((s) => s.currency === cur);
      const sum = (field) => fmt(decimalSum(rows.map((s) => s[field])));
      const count = rows.reduce((n, s) => n + (Number(s.count) || 0), 0);
      const regions = rows.map((s) => s.region);
      foot.append(el('tr', { testid: 'ledger-total', dataset: { currency: cur } },
        el('td', { colSpan: 5 }, `Total${from || to ? ' for the period' : ''} · ${plural(count, 'transaction', 'transactions')} · taxable ${sum('taxable_sales')}`),
        el('td', {}, regions.length === 1 ? regions[0] : plural(regions.length, 'region', 'regions')),
        el('td', {}, cur),
        el('td', { className: 'num', title: 'Gross sales' }, sum('gross_sales')),
        el('td', { className: 'num' }, sum('tax_collected')),
        el('td', { className: 'num' }, sum('tax_calculated'))));
    }
    for (const s of items) {
      byRegion.append(el('tr', { testid: 'region-total' },
        el('td', {}, fmt(s.region)), el('td', {}, fmt(s.currency)), el('td', { className: 'num' }, fmt(s.count)),
        el('td', { className: 'num' }, fmt(s.gross_sales)), el('td', { className: 'num' }, fmt(s.taxable_sales)),
        el('td', { className: 'num' }, fmt(s.tax_collected)), el('td', { className: 'num' }, fmt(s.tax_calculated))));
    }
    show($('ledger-by-region'), items.length > 1);
  }

  // ---------- quarantine ----------
  const STREAM_LABEL = { products: 'Products', customers: 'Customers', invoices: 'Invoices', credit_notes: 'Credit notes' };

  /** Why the quarantine list is empty, from what the page knows about the connection. */
  function quarantineEmptyNote() {
    const c = state.conn;
    if (!c) return 'No quarantined documents. Connect Sequence: documents Sphere cannot map will be listed here with the reason.';
    if (!c.last_sync) return 'No quarantined documents yet: the first sync has not finished.';
    return 'No quarantined documents: every document imported from Sequence so far mapped to the ledger. ' +
      'One Sphere cannot map (an unknown status, an unsupported currency) would be listed here with the reason.';
  }

  async function loadQuarantine(append) {
    await optional('quarantine-section', 'quarantine-note', async () => {
      const c = state.conn;
      let items = [];
      let next = null;
      if (c) {
        const q = new URLSearchParams({ limit: '50' });
        if (append && state.quarantineNext) q.set('after', state.quarantineNext);
        const page = await api('GET', `/v1/sequence/connections/${encodeURIComponent(c.id)}/quarantine?${q}`);
        items = (page && page.items) || [];
        next = (page && page.next) || null;
      }
      const rows = items.map(quarantineRow);
      if (append) $('quarantine-body').append(...rows);
      else $('quarantine-body').replaceChildren(...rows);
      state.quarantineNext = next;
      show($('quarantine-more'), Boolean(next));
      const empty = $('quarantine-body').children.length === 0;
      show($('quarantine-table'), !empty);
      if (empty) {
        $('quarantine-note').textContent = quarantineEmptyNote();
        show($('quarantine-note'), true);
      }
    });
    if ($('quarantine-section').dataset.state !== 'ready') {
      show($('quarantine-table'), false);
      show($('quarantine-more'), false);
    }
  }

  function quarantineRow(q) {
    return el('tr', { testid: 'quarantine-row', dataset: { sequenceId: q.sequence_id, stream: q.stream } },
      el('td', {}, STREAM_LABEL[q.stream] || fmt(q.stream)),
      el('td', {}, el('code', {}, fmt(q.sequence_id))),
      el('td', { testid: 'quarantine-reason' }, fmt(q.reason)),
      el('td', {}, fmtTime(q.recorded_at || q.recorded_at_ms)));
  }

  // ---------- tax coverage ----------
  const COVERAGE_LABEL = {
    no_local_tax: 'no local taxes (state rate complete)',
    boundaries: 'rate + boundary files',
    county_by_zip: 'county by ZIP, city by name',
    county_city: 'county by ZIP, city by name (county / city tables)',
    local_tables: 'county / city / district tables',
    statewide_only: 'statewide local taxes only: county / city / district taxes not charged',
    state_rate_only: 'state rate only: local taxes not charged',
  };

  async function loadCoverage() {
    await optional('coverage-section', 'coverage-note', async () => {
      const data = await api('GET', '/v1/tax-coverage');
      const rows = (data && data.us) || [];
      const gaps = rows.filter((r) => r.local === 'state_rate_only' || r.local === 'statewide_only').map((r) => r.state);
      $('coverage-summary').textContent = gaps.length === 0
        ? `Local data for every state with local taxes (${rows.length} states).`
        : `${gaps.length} of ${rows.length} states have local taxes we do not hold yet (not charged): ${gaps.join(', ')}.`;
      $('coverage-body').replaceChildren(...rows.map((r) =>
        el('tr', { testid: 'coverage-row', dataset: { state: r.state, local: r.local } },
          el('td', {}, fmt(r.state)),
          el('td', {}, COVERAGE_LABEL[r.local] || fmt(r.local)),
          el('td', {}, fmt(r.precision)),
          el('td', { className: 'num' }, String(r.local_jurisdictions)),
          el('td', {}, fmt(r.as_of || '–')))));
    });
  }

  // ---------- exposure ----------
  /**
   * The tile-grid map: each state a square at its (row, column), close to its place on a map (the layout of the
   * common "state grid" cartograms). DE, MT, NH and OR levy no sales tax; AK is its local (ARSSTC) threshold.
   */
  const STATE_TILES = {
    AK: [0, 0], ME: [0, 11],
    WI: [1, 6], VT: [1, 10], NH: [1, 11],
    WA: [2, 1], ID: [2, 2], MT: [2, 3], ND: [2, 4], MN: [2, 5], IL: [2, 6], MI: [2, 7], NY: [2, 9], MA: [2, 10],
    OR: [3, 1], NV: [3, 2], WY: [3, 3], SD: [3, 4], IA: [3, 5], IN: [3, 6], OH: [3, 7], PA: [3, 8], NJ: [3, 9],
    CT: [3, 10], RI: [3, 11],
    CA: [4, 1], UT: [4, 2], CO: [4, 3], NE: [4, 4], MO: [4, 5], KY: [4, 6], WV: [4, 7], VA: [4, 8], MD: [4, 9],
    DE: [4, 10],
    AZ: [5, 2], NM: [5, 3], KS: [5, 4], AR: [5, 5], TN: [5, 6], NC: [5, 7], SC: [5, 8], DC: [5, 9],
    OK: [6, 4], LA: [6, 5], MS: [6, 6], AL: [6, 7], GA: [6, 8],
    HI: [7, 0], TX: [7, 4], FL: [7, 9],
  };
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'testid') node.dataset.testid = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }
  const EXPOSURE_LABEL = { exposed: 'Exposed', approaching: 'Approaching', registered: 'Registered', below: 'Below' };

  function drawMap(rows) {
    const byState = new Map(rows.filter((r) => r.jurisdiction.startsWith('US-')).map((r) => [r.jurisdiction.slice(3), r]));
    const size = 44;
    const gap = 4;
    const map = svg('svg', { viewBox: `0 0 ${12 * (size + gap)} ${8 * (size + gap)}`, testid: 'exposure-svg' });
    for (const [st, [row, col]] of Object.entries(STATE_TILES)) {
      const r = byState.get(st);
      const status = r ? r.status : 'none';
      const title = r
        ? `${st}: ${EXPOSURE_LABEL[status] || status}, ${fmt(r.sales)} ${r.currency} of ${fmt(r.threshold_amount)} (${fmt(r.percent)} %)`
        : `${st}: no state sales tax`;
      const x = col * (size + gap);
      const y = row * (size + gap);
      map.append(svg('g', { class: `tile ${status}`, testid: 'map-tile', 'data-state': st, 'data-status': status },
        svg('title', {}, title),
        svg('rect', { x, y, width: size, height: size, rx: 6 }),
        svg('text', { x: x + size / 2, y: y + size / 2 + 5, 'text-anchor': 'middle' }, st)));
    }
    $('exposure-map').replaceChildren(map);
  }

  /** A 12-month trend as a small line (no axis: its shape is the message; the title gives the numbers). */
  function sparkline(values) {
    const nums = values.map((v) => Number(v) || 0);
    const w = 96;
    const h = 22;
    const max = Math.max(...nums, 0);
    const min = Math.min(...nums, 0);
    const span = max - min || 1;
    const points = nums.map((v, i) => `${(i * w / Math.max(nums.length - 1, 1)).toFixed(1)},${(h - 2 - (v - min) * (h - 4) / span).toFixed(1)}`);
    return svg('svg', { class: 'spark', viewBox: `0 0 ${w} ${h}`, width: w, height: h, testid: 'sparkline' },
      svg('title', {}, `monthly sales, oldest first: ${values.join(', ')}`),
      svg('polyline', { points: points.join(' ') }));
  }

  function exposureRow(r) {
    const threshold = r.threshold_transactions
      ? `${fmt(r.threshold_amount)} ${r.currency} ${r.combine} ${r.threshold_transactions} sales`
      : `${fmt(r.threshold_amount)} ${r.currency}`;
    const crossed = r.crossed_on
      ? `${r.crossed_on}${r.crossing_document ? ` (${r.crossing_document.number || r.crossing_document.id})` : ''}`
      : (r.physical_presence ? 'established here' : '—');
    return el('tr', { testid: 'exposure-row', dataset: { jurisdiction: r.jurisdiction, status: r.status } },
      el('td', {}, r.jurisdiction),
      el('td', {}, el('span', { className: `badge-status ${r.status}` }, EXPOSURE_LABEL[r.status] || r.status)),
      el('td', { className: 'num' }, `${fmt(r.sales)} ${r.currency}`),
      el('td', { className: 'num' }, threshold),
      el('td', { className: 'num' }, fmt(r.percent)),
      el('td', {}, sparkline(r.trend || [])),
      el('td', {}, crossed),
      el('td', {}, fmt(r.registration_required_from)));
  }

  async function loadExposure() {
    await optional('exposure-section', 'exposure-note', async () => {
      const asOf = $('exposure-as-of').value;
      const data = await api('GET', `/v1/exposure?crossing_documents=true${asOf ? `&as_of=${asOf}` : ''}`);
      const rows = (data && data.items) || [];
      if (!asOf && data && data.as_of) $('exposure-as-of').value = data.as_of;
      drawMap(rows);
      const order = { exposed: 0, approaching: 1, registered: 2, below: 3 };
      const sorted = [...rows].sort((a, b) => (order[a.status] - order[b.status]) || (Number(b.percent) - Number(a.percent)));
      // states with sales or a status to act on first; the quiet ones (below, no sales) folded away
      const us = sorted.filter((r) => r.jurisdiction.startsWith('US-'));
      const quiet = (r) => r.status === 'below' && Number(r.sales) === 0 && r.transactions === 0;
      $('exposure-body').replaceChildren(...us.filter((r) => !quiet(r)).map(exposureRow));
      $('exposure-quiet-body').replaceChildren(...us.filter(quiet).map(exposureRow));
      $('exposure-quiet-summary').textContent = `${plural(us.filter(quiet).length, 'state', 'states')} without sales`;
      $('exposure-intl-body').replaceChildren(...sorted.filter((r) => !r.jurisdiction.startsWith('US-')).map(exposureRow));
      const notes = [];
      if (data && data.complete === false) notes.push('The running totals are still being built by the first sync since the upgrade; figures are partial.');
      if (data && data.exchange_rates) notes.push(`Exchange rates: ${data.exchange_rates.source}, published up to ${fmt(data.exchange_rates.last_date)}.`);
      $('exposure-note').textContent = notes.join(' ');
      show($('exposure-note'), notes.length > 0);
      const jurisdictions = $('filing-jurisdiction');
      if (!jurisdictions.value) {
        const first = sorted.find((r) => r.jurisdiction.startsWith('US-') && Number(r.sales) !== 0);
        if (first) jurisdictions.value = first.jurisdiction;
      }
    });
  }

  // ---------- filing report ----------
  /** The periods offered for a kind, newest first: the last 8 quarters, 12 months or 3 years. */
  function fillPeriods() {
    const kind = $('filing-kind').value;
    const now = new Date();
    const y = now.getUTCFullYear();
    const m = now.getUTCMonth();
    const options = [];
    if (kind === 'year') for (let i = 0; i < 3; i++) options.push(String(y - i));
    if (kind === 'month') {
      for (let i = 0; i < 12; i++) {
        const d = new Date(Date.UTC(y, m - i, 1));
        options.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
      }
    }
    if (kind === 'quarter') {
      let q = Math.floor(m / 3);
      let yy = y;
      for (let i = 0; i < 8; i++) {
        options.push(`${yy}-Q${q + 1}`);
        q -= 1;
        if (q < 0) { q = 3; yy -= 1; }
      }
    }
    $('filing-period').replaceChildren(...options.map((o) => el('option', { value: o }, o)));
  }

  function filingQuery() {
    const q = new URLSearchParams();
    q.set('jurisdiction', $('filing-jurisdiction').value.trim().toUpperCase());
    q.set('period', $('filing-period').value);
    return q;
  }

  async function loadFiling() {
    const data = await api('GET', `/v1/reports/filing?${filingQuery()}`);
    const body = $('filing-body');
    const rows = [];
    for (const c of data.currencies || []) {
      rows.push(el('tr', { testid: 'filing-total', dataset: { currency: c.currency } },
        el('th', { scope: 'row' }, `${data.jurisdiction} (total)`), el('td', {}, c.currency),
        el('td', { className: 'num' }, `${plural(c.invoices, 'invoice', 'invoices')}, ${plural(c.credit_notes, 'credit note', 'credit notes')}` +
          (c.uncalculated_documents ? ` (${c.uncalculated_documents} not calculated by Sphere)` : '')),
        el('td', { className: 'num' }, fmt(c.gross_sales)), el('td', { className: 'num' }, fmt(c.exempt_sales)),
        el('td', { className: 'num' }, fmt(c.taxable_sales)), el('td', { className: 'num' }, fmt(c.tax_collected)),
        el('td', { className: 'num' }, fmt(c.tax_calculated))));
      for (const j of c.jurisdictions || []) {
        rows.push(el('tr', { testid: 'filing-jurisdiction-row' },
          el('td', {}, `${j.jurisdiction} · ${j.tax_type}`), el('td', {}, c.currency), el('td', {}, ''),
          el('td', {}, ''), el('td', {}, ''), el('td', { className: 'num' }, fmt(j.taxable)), el('td', {}, ''),
          el('td', { className: 'num' }, fmt(j.tax))));
      }
    }
    body.replaceChildren(...rows);
    show($('filing-table'), rows.length > 0);
    const docs = (data.documents || []).length;
    $('filing-note').textContent = rows.length === 0
      ? `No sales in ${data.jurisdiction} for ${data.period} (${data.from} to ${data.to}).`
      : `${data.period}: ${data.from} to ${data.to}; ${docs}${data.documents_truncated ? '+' : ''} documents in the ledger make it up.`;
    show($('filing-note'), true);
  }

  /** The report as CSV (the API's own file: the page adds nothing), saved through a link to a Blob. */
  async function downloadFiling() {
    const q = filingQuery();
    const resp = await fetch(`/v1/reports/filing?${q}`, { headers: { Authorization: `Bearer ${token()}`, Accept: 'text/csv' } });
    if (!resp.ok) {
      let code = 'http_error';
      let message = `HTTP ${resp.status}`;
      try { ({ code, message } = (await resp.json()).error); } catch (_) { /* not JSON */ }
      throw new ApiError(resp.status, code, message);
    }
    const blob = await resp.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `filing-${q.get('jurisdiction')}-${q.get('period')}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // ---------- audit ----------
  async function loadAudit() {
    const data = await api('GET', '/v1/audit');
    const items = ((data && data.items) || []).slice(0, 15);
    const list = $('audit-list');
    clear(list);
    for (const a of items) {
      list.append(el('li', { testid: 'audit-item' },
        el('time', { dateTime: a.at }, fmtTime(a.at)),
        el('span', { className: 'action' }, fmt(a.action)),
        el('span', {}, `${fmt(a.target)} · by ${fmt(a.actor)}`)));
    }
    show($('audit-empty'), items.length === 0);
  }
  function refreshAudit() { loadAudit().catch(() => {}); }

  // ---------- start ----------
  function wire() {
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token-input').value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t);
      $('token-input').value = '';
      start();
    });
    $('sign-out').addEventListener('click', () => { clearError(); signOut(); });
    $('alert-dismiss').addEventListener('click', clearError);
    $('connect-button').addEventListener('click', () => openConnectForm('connect'));
    $('rotate-credentials').addEventListener('click', () => openConnectForm('rotate'));
    $('connect-cancel').addEventListener('click', () => { clearError(); closeConnectForm(); });
    $('connect-form').addEventListener('submit', submitConnect);
    $('sync-now').addEventListener('click', syncNow);
    $('disconnect').addEventListener('click', () => { show($('disconnect-confirm'), true); $('disconnect-no').focus(); });
    $('disconnect-no').addEventListener('click', () => show($('disconnect-confirm'), false));
    $('disconnect-yes').addEventListener('click', disconnect);
    $('generate-key').addEventListener('click', generateKey);
    $('copy-key').addEventListener('click', copyKey);
    $('new-key-done').addEventListener('click', hideNewKey);
    $('settings-form').addEventListener('submit', saveSettings);
    $('registration-form').addEventListener('submit', saveRegistration);
    $('ledger-filters').addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearError();
      loadLedger(false);
    });
    $('ledger-more').addEventListener('click', () => loadLedger(true));
    $('quarantine-more').addEventListener('click', () => loadQuarantine(true));
    $('exposure-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearError();
      loadExposure().catch((e) => showError(e.message));
    });
    fillPeriods();
    $('filing-kind').addEventListener('change', fillPeriods);
    $('filing-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearError();
      loadFiling().catch((e) => showError(e.message));
    });
    $('filing-csv').addEventListener('click', (ev) => act(ev.currentTarget, downloadFiling));
  }

  async function start() {
    clearError();
    if (!token()) {
      signOut();
      return;
    }
    try {
      state.org = await api('GET', '/v1/organization');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) showError(e.message);
      return;
    }
    renderOrg(state.org);
    show($('token-section'), false);
    show($('app'), true);
    const connection = loadConnection().catch((e) => showError(e.message));
    await Promise.all([
      connection,
      // products need the tax codes (the picker) and the connection (what an empty list means)
      loadTaxCodes().catch((e) => showError(e.message)).then(() => Promise.all([loadSettings(), connection.then(loadProducts)])),
      loadRegistrations(),
      loadCoverage(),
      loadLedger(false),
      loadExposure(),
      // what an empty quarantine means depends on the connection
      connection.then(() => loadQuarantine(false)),
      loadAudit().catch((e) => showError(e.message)),
    ]);
    document.body.dataset.ready = 'true';
  }

  /** Tables that share a header name it (`<thead data-head="x">`); the one copy is `<template id="x-head">`. */
  function fillSharedHeads() {
    for (const head of document.querySelectorAll('thead[data-head]')) {
      const tpl = document.getElementById(`${head.dataset.head}-head`);
      if (tpl) head.replaceChildren(tpl.content.cloneNode(true));
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    fillSharedHeads();
    wire();
    takeTokenFromFragment();
    start();
  });
  // a console link opened over this page only changes the fragment: no reload, so take it here
  window.addEventListener('hashchange', () => {
    if (!new URLSearchParams(location.hash.replace(/^#/, '')).has('token')) return;
    takeTokenFromFragment();
    start();
  });
})();
