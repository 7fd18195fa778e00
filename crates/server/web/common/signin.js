// Signing in with a password and, where the account has one, a second factor: the code
// from an authenticator app or a recovery code. A page with a `#signin-form` (holding
// `#login` and `#password`) and a `#sign-out` button in its header calls `signIn()` from
// its submit handler, and `secondFactor()` for the set-up screen and the header button.
// The strings are here, in Japanese and English, for every page that signs people in.

import { lang } from './i18n.js';
import { $, api, h, notice, show } from './ui.js';

/** @type {Record<string, Record<string, string>>} */
const STRINGS = {
  ja: {
    code: '確認コード（認証アプリの6桁、またはリカバリーコード）',
    code_needed: '認証アプリに表示されている6桁の確認コードを入力してください。',
    code_bad: '確認コードが正しくありません。新しいコードを入力してください。',
    button: '二段階認証',
    setup_title: '二段階認証の設定',
    setup_required: 'このアカウントは二段階認証が必要です。設定が終わるまで、ほかの操作はできません。',
    setup_help:
      'スマートフォンの認証アプリ（Google Authenticator、Microsoft Authenticator など）でQRコードを読み取り、表示された6桁のコードを入力してください。',
    secret: '読み取れないときは、このキーを入力してください',
    setup_code: '認証アプリに表示された6桁のコード',
    confirm: '設定する',
    later: 'あとで設定する（サインアウト）',
    recovery_title: 'リカバリーコード',
    recovery_help:
      'スマートフォンをなくしたときに、確認コードの代わりに使います。各コードは1回だけ使えます。印刷するか安全な場所に保管してください。この画面は二度と表示されません。',
    recovery_done: '保管しました',
    on: '二段階認証は有効です。残りのリカバリーコード: {n}',
    on_required: 'このアカウントでは二段階認証を解除できません。',
    remove: '解除する',
    removed: '二段階認証を解除しました。',
    back: '戻る',
  },
  en: {
    code: 'Code (6 digits from the authenticator app, or a recovery code)',
    code_needed: 'Enter the 6-digit code shown in your authenticator app.',
    code_bad: 'That code is not right. Enter a new code.',
    button: 'Two-factor sign-in',
    setup_title: 'Set up two-factor sign-in',
    setup_required: 'This account needs two-factor sign-in. Nothing else is possible until it is set up.',
    setup_help:
      'Scan the QR code with an authenticator app on your phone (Google Authenticator, Microsoft Authenticator…) and enter the 6-digit code it shows.',
    secret: 'If you cannot scan it, enter this key',
    setup_code: 'The 6-digit code the app shows',
    confirm: 'Turn on',
    later: 'Later (sign out)',
    recovery_title: 'Recovery codes',
    recovery_help:
      'Use one instead of a code if you lose your phone. Each works once. Print them or keep them somewhere safe: this screen is not shown again.',
    recovery_done: 'I have kept them',
    on: 'Two-factor sign-in is on. Recovery codes left: {n}',
    on_required: 'This account cannot turn two-factor sign-in off.',
    remove: 'Turn off',
    removed: 'Two-factor sign-in is off.',
    back: 'Back',
  },
};

/**
 * One of this module's strings in the page's language.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 */
function s(key, vars) {
  let text = (lang() === 'en' ? STRINGS.en : STRINGS.ja)[key] ?? STRINGS.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
  return text;
}

/** The code field of the sign-in form, added the first time it is needed. */
function codeField() {
  const existing = document.getElementById('code');
  if (existing instanceof HTMLInputElement) return existing;
  const form = $('signin-form');
  const input = /** @type {HTMLInputElement} */ (
    h('input', { id: 'code', autocomplete: 'one-time-code', inputmode: 'text', required: true, maxlength: '20' })
  );
  const row = h('div', { id: 'code-row' }, h('label', { for: 'code', text: s('code') }), input);
  form.insertBefore(row, form.querySelector('button[type=submit]'));
  return input;
}

/**
 * Sign in with the form's login and password (and code, once asked for). Returns the
 * server's answer (`token`, `second_factor_setup`), or `null` when the form now asks
 * for a code (the page waits for the next submit). Other refusals are thrown.
 * @param {'staff' | 'interpreter'} role
 * @returns {Promise<{ token: string, second_factor_setup: boolean, role: 'interpreter' | 'supervisor' | 'admin' } | null>}
 */
export async function signIn(role) {
  const code = /** @type {HTMLInputElement | null} */ (document.getElementById('code'));
  /** @type {Record<string, string>} */
  const body = {
    role,
    login: $('login', HTMLInputElement).value.trim(),
    password: $('password', HTMLInputElement).value,
  };
  if (code?.value.trim()) body.code = code.value.trim();
  try {
    const r = await api('/api/sign-in', { method: 'POST', body });
    if (code) {
      code.value = '';
      document.getElementById('code-row')?.remove();
    }
    return r;
  } catch (e) {
    const err = /** @type {any} */ (e);
    if (err.code === 'second_factor_required') {
      const input = codeField();
      notice(s('code_needed'), 'info');
      input.focus();
      return null;
    }
    if (err.status === 401 && code?.value.trim()) {
      code.value = '';
      notice(s('code_bad'), 'error');
      code.focus();
      return null;
    }
    throw e;
  }
}

/** The set-up screen, made once. */
function screen() {
  const existing = document.getElementById('second-factor');
  if (existing) return existing;
  const section = h('section', { class: 'screen', id: 'second-factor', hidden: true });
  $('notice').after(section);
  return section;
}

/**
 * Set up a second factor with the session `token`: the QR code and key, a first code,
 * then the recovery codes. Resolves once they are kept (or at once if one is on).
 * @param {string} token
 * @param {boolean} required the account must have one (say so)
 */
export async function setUp(token, required) {
  const section = screen();
  const setup = await api('/api/me/second-factor', { method: 'POST', token });
  const code = /** @type {HTMLInputElement} */ (
    h('input', { id: 'setup-code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: '6', required: true })
  );
  const qr = h('img', { class: 'qr', alt: 'QR', src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}` });
  return new Promise((resolve) => {
    const form = h(
      'form',
      { class: 'card stack narrow', id: 'setup-form' },
      required ? h('p', { class: 'notice warn', text: s('setup_required') }) : null,
      h('p', { text: s('setup_help') }),
      qr,
      h('p', { class: 'muted', text: s('secret') }),
      h('code', { id: 'setup-secret', class: 'secret', text: setup.secret }),
      h('div', {}, h('label', { for: 'setup-code', text: s('setup_code') }), code),
      h('button', { class: 'primary', type: 'submit', text: s('confirm') }),
      required ? h('button', { type: 'button', id: 'setup-later', text: s('later') }) : null,
    );
    // Someone who must set it up and cannot now (no phone at hand) signs out.
    form.querySelector('#setup-later')?.addEventListener('click', async () => {
      await api('/api/sign-out', { method: 'POST', token }).catch(() => {});
      sessionStorage.clear();
      location.reload();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const r = await api('/api/me/second-factor/confirm', { method: 'POST', token, body: { code: code.value.trim() } });
        notice(null);
        const list = h('ol', { id: 'recovery-codes', class: 'codes' }, ...r.recovery_codes.map((/** @type {string} */ c) => h('li', { text: c })));
        const done = h('button', { class: 'primary', type: 'button', id: 'recovery-done', text: s('recovery_done') });
        done.addEventListener('click', () => resolve(undefined));
        section.replaceChildren(
          h('h1', { text: s('recovery_title') }),
          h('div', { class: 'card stack narrow' }, h('p', { text: s('recovery_help') }), list, done),
        );
        show('second-factor');
      } catch {
        code.value = '';
        notice(s('code_bad'), 'error');
        code.focus();
      }
    });
    section.replaceChildren(h('h1', { text: s('setup_title') }), form);
    show('second-factor');
  });
}

/**
 * Where someone stands, from the header button: set one up, or see it is on and turn it
 * off (with a code) where no rule requires it. Resolves when they go back.
 * @param {string} token
 */
async function manage(token) {
  const status = await api('/api/me/second-factor', { token });
  if (!status.enabled) return setUp(token, status.required);
  const section = screen();
  return new Promise((resolve) => {
    const back = h('button', { type: 'button', id: 'second-factor-back', text: s('back') });
    back.addEventListener('click', () => resolve(undefined));
    /** @type {HTMLElement | null} */
    let form = null;
    if (!status.required) {
      const code = /** @type {HTMLInputElement} */ (h('input', { id: 'remove-code', autocomplete: 'one-time-code', required: true }));
      form = h('form', { class: 'stack' }, h('div', {}, h('label', { for: 'remove-code', text: s('code') }), code),
        h('button', { type: 'submit', text: s('remove') }));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          await api('/api/me/second-factor', { method: 'DELETE', token, body: { code: code.value.trim() } });
          notice(s('removed'), 'info');
          resolve(undefined);
        } catch {
          code.value = '';
          notice(s('code_bad'), 'error');
        }
      });
    }
    section.replaceChildren(
      h('h1', { text: s('button') }),
      h('div', { class: 'card stack narrow' },
        h('p', { text: s('on', { n: status.recovery_codes_left }) }),
        status.required ? h('p', { class: 'muted', text: s('on_required') }) : null,
        form, back),
    );
    show('second-factor');
  });
}

/**
 * A header button beside `#sign-out` that opens [`manage`], shown while `#sign-out` is;
 * after it, the page's screen comes back.
 * @param {() => string | null} token the current session token
 */
export function secondFactorButton(token) {
  const out = $('sign-out');
  const button = /** @type {HTMLButtonElement} */ (h('button', { id: 'two-factor', type: 'button', text: s('button') }));
  out.before(button);
  const sync = () => {
    button.hidden = out.hidden;
    button.textContent = s('button');
  };
  new MutationObserver(sync).observe(out, { attributes: true, attributeFilter: ['hidden'] });
  new MutationObserver(sync).observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  sync();
  button.addEventListener('click', async () => {
    const current = token();
    if (!current) return;
    const back = document.body.dataset.screen || 'signin';
    try {
      await manage(current);
    } finally {
      show(back);
    }
  });
}
