// The directory editor, over the admin API: tenants and their routing policies, desks
// (with their one-time enrolment codes), interpreters with languages, tiers and rosters.
// The server validates everything and names the field at fault with a code for what is
// wrong; this page says it in its own language (common/errors.js).

import { sayError } from '../common/errors.js';
import { apply, t, use } from '../common/i18n.js';
import { secondFactorButton, setUp, signIn } from '../common/signin.js';
import { renderPartners } from './partners.js';
import { renderRecords } from './records.js';
import { renderCalendar } from './centre-calendar.js';
import { readPins, renderPins } from './pins.js';
import { checkPolicy, readPolicy, renderPolicy, showPolicyError } from './policy.js';
import { checkRoster, readRoster, renderRoster, showRosterError } from '../common/roster.js';
import { ROSTER_STRINGS } from '../common/roster-strings.js';
import { openRoster } from './rosters.js';
import { $, api, h, notice, show } from '../common/ui.js';

/** @type {Record<string, Record<string, string>>} */
const STRINGS = {
  ja: {
    app: '架け橋 管理', switch_lang: 'English', signin_title: 'サインイン(管理者)', login: 'ログイン名', password: 'パスワード',
    signin: 'サインイン', signin_bad: 'ログイン名かパスワードが違います。', sign_out: 'サインアウト',
    tenants: '自治体', desks: '窓口', interpreters: '通訳者', name: '名前', foreign_residents: '外国人住民数', time_zone: 'タイムゾーン',
    add_tenant: '自治体を追加', add: '追加', policy: '振り分け方針', policy_json: '振り分け方針(JSON)', save: '保存', cancel: 'やめる',
    tenant: '自治体', status: '状態', add_desk: '窓口を追加', enrolled: '登録済み', not_enrolled: '未登録', revoked: '取り消し済み',
    revoke: '取り消す', revoke_confirm: 'この窓口のタブレットを取り消しますか?', code: '登録コード(一度だけ表示):{code}',
    tier: '区分', languages: '言語', initial_password: '初期パスワード(12文字以上)', languages_help: '言語(カンマ区切り、例 vi, en)',
    modalities_help: '方法(video, audio, phone)', specialities_help: '分野(任意)', tenants_help: '担当自治体ID(カンマ区切り)',
    shared_pool: '共有プールに参加', reach_by_phone: '電話で呼び出す番号(任意)',
    reach_by_phone_help: '入力すると、依頼はこの番号への電話でお知らせします(1で受ける、2で断る)。コンソールは使いません。番号は通話記録に残りません。', roster: '勤務表', roster_of: '{login} の勤務表', new_interpreter: '新しい通訳者', edit: '編集', add_interpreter: '通訳者を追加',
    edit_interpreter: '通訳者 {id} を編集', saved: '保存しました。', admins_only: '管理者のみ使えます。',
    pf_steps: '呼び出す範囲の広げ方', pf_steps_help: '上から順に、各段階の秒数が過ぎると次の段階の通訳者も呼び出します。最後の段階は0秒(ずっと)にできます。',
    pf_step_seconds: '秒数', pf_tiers: '区分', tier_staff: '職員', tier_contractor: '委託', tier_volunteer: 'ボランティア', pf_scope: '範囲',
    pf_scope_own: 'この自治体の通訳者', pf_scope_shared: '共有プールも', pf_speciality_only: '分野が合う通訳者のみ', pf_remove_step: 'この段階を削除',
    pf_add_step: '段階を追加', pf_timings: '時間', pf_ring_timeout: '呼び出し時間(秒)', pf_max_wait: '最長待ち時間(秒)', pf_missed_offers: '連続不在で受付停止(回)',
    pf_urgent_credit: '至急の優先(秒)', pf_preferred_hold: '同じ通訳者を待つ時間(秒)', pf_booking_guard: '予約前に受付を止める時間(秒)',
    pf_wrap_up: '通話後の整理時間(秒)', pf_until_ready: '通訳者が「待機」を押すまで', pf_parallel: '同時呼び出し',
    pf_parallel_help: '選んだ言語(少数言語)は、複数の通訳者を同時に呼び出します。', pf_fan_out: '同時に呼び出す人数(2〜8)',
    pf_order: '呼び出す順', pf_order_tier_then_longest_idle: '区分の順、同じ区分では待ち時間の長い人から', pf_order_longest_idle: '待ち時間の長い人から',
    pf_fix: '赤字の項目を直してください。',
    pf_no_tier: '区分を1つ以上選んでください。', pf_zero_not_last: '0秒(ずっと)にできるのは最後の段階だけです。', pf_no_steps: '段階を1つ以上置いてください。',
    pins: '言語の並び', pins_help: '窓口の言語ボタンで、ここに並べた言語を先頭に、この順で表示します。ほかの言語は通訳した回数の多い順です。',
    pins_add: '言語を追加', pins_up: '上へ', pins_down: '下へ', pins_remove: '外す',
    partners: '紹介先', partners_help: '窓口が相談の結果で選ぶ紹介先(機関・部署)です。個人名は登録しないでください。使わなくなったものは「停止」にします(記録には残ります)。',
    records_policy: '記録の保存', keep_records: '通話記録の保存日数', keep_audit: '監査ログの保存日数', keep_notes: '対応メモの保存日数',
    handling_notes: '窓口で対応メモを書けるようにする', handling_notes_help: '相談後に窓口が500字までのメモを残せます。暗号化して保存され、この自治体のコーディネーターだけが読めます(閲覧はすべて記録)。統計・共有報告には含まれません。',
    audit_log: '監査ログ(最新100件)', audit_at: '日時', audit_actor: '誰が', audit_action: '操作', audit_target: '対象', audit_ok: '実行', audit_refused: '拒否',
    partner_kind: '種類', partner_active: '使用中', partner_retired: '停止中', partner_retire: '停止', partner_restore: '再開',
    kind_immigration: '出入国在留管理局', kind_legal_aid: '法律相談(法テラス・弁護士会)', kind_employment: 'ハローワーク', kind_labour_standards: '労働基準監督署',
    kind_social_welfare: '社会福祉協議会', kind_npo: 'NPO・支援団体', kind_international_association: '国際交流協会', kind_japanese_class: '日本語教室',
    kind_municipal_department: '市町の担当課', kind_other: 'その他',
    c_title: '開所カレンダー', c_help: '住民向けリンクに表示し、時間外は電話回線とオンライン窓口を受け付けません。窓口の「いま通訳できない」案内もこの時間に沿います。',
    c_unset: 'まだ設定されていません(表示は市役所の標準: 平日 8:30〜17:15)。保存すると、電話回線とオンライン窓口はこの時間だけ受け付けます。',
    c_hours: '開所時間', c_add_hours: '開所時間を追加', c_open: '開所', c_close: '閉所', c_holidays: '祝日は閉所', c_year_end: '年末年始(12/29〜1/3)は閉所',
    c_closures: '臨時の閉所', c_add_closure: '閉所日を追加', c_reason: '理由(住民に表示)', c_extra: '特別な開所(夜間相談など)', c_add_extra: '特別な開所を追加',
    c_note: 'メモ(住民に表示)', c_backwards: '閉所の時刻が開所より前です。', c_two_weeks: 'これからの2週間', c_closed: '閉所', c_open_now: 'いま開所中です。', c_next_open: '次の開所: {at}',
    err_invalid_field: '入力内容に誤りがあります:{m}', err_not_found: '対象が見つかりません:{m}', err_rate_limited: '操作が多すぎます。少し待ってください。',
    err_internal: 'サーバーで問題が起きました（{m}）。', err_unauthorized: 'もう一度サインインしてください。',
  },
  en: {
    app: 'kakehashi admin', switch_lang: '日本語', signin_title: 'Sign in (administrators)', login: 'Login', password: 'Password',
    signin: 'Sign in', signin_bad: 'The login or the password is wrong.', sign_out: 'Sign out',
    tenants: 'Municipalities', desks: 'Desks', interpreters: 'Interpreters', name: 'Name', foreign_residents: 'Foreign residents', time_zone: 'Time zone',
    add_tenant: 'Add a municipality', add: 'Add', policy: 'Routing policy', policy_json: 'Routing policy (JSON)', save: 'Save', cancel: 'Cancel',
    tenant: 'Municipality', status: 'Status', add_desk: 'Add a desk', enrolled: 'Enrolled', not_enrolled: 'Not enrolled', revoked: 'Revoked',
    revoke: 'Revoke', revoke_confirm: "Revoke this desk's tablet?", code: 'Enrolment code (shown once): {code}',
    tier: 'Tier', languages: 'Languages', initial_password: 'Initial password (12 characters or more)', languages_help: 'Languages (comma-separated, e.g. vi, en)',
    modalities_help: 'Modalities (video, audio, phone)', specialities_help: 'Specialities (optional)', tenants_help: 'Municipality ids served (comma-separated)',
    shared_pool: 'In the shared pool', reach_by_phone: 'Reach by phone at (optional)',
    reach_by_phone_help: 'With a number, offers ring this phone (1 accepts, 2 declines) instead of the console. The number never appears in call records.', roster: 'Roster', roster_of: "{login}'s roster", new_interpreter: 'New interpreter', edit: 'Edit', add_interpreter: 'Add an interpreter',
    edit_interpreter: 'Edit interpreter {id}', saved: 'Saved.', admins_only: 'For administrators only.',
    pf_steps: 'How the pool widens', pf_steps_help: 'From the top: when a step\'s seconds have passed, the next step\'s interpreters are offered too. The last step may be 0 (for good).',
    pf_step_seconds: 'Seconds', pf_tiers: 'Tiers', tier_staff: 'Staff', tier_contractor: 'Contractors', tier_volunteer: 'Volunteers', pf_scope: 'Scope',
    pf_scope_own: "This municipality's interpreters", pf_scope_shared: 'The shared pool too', pf_speciality_only: 'Only with the subject', pf_remove_step: 'Remove this step',
    pf_add_step: 'Add a step', pf_timings: 'Times', pf_ring_timeout: 'Offer rings for (s)', pf_max_wait: 'Longest wait (s)', pf_missed_offers: 'Missed offers before not ready',
    pf_urgent_credit: 'Head start of urgent requests (s)', pf_preferred_hold: 'Wait for the same interpreter (s)', pf_booking_guard: 'Stop on-demand calls before a booking (s)',
    pf_wrap_up: 'Wrap-up after a call (s)', pf_until_ready: 'Until the interpreter sets available', pf_parallel: 'Parallel ringing',
    pf_parallel_help: 'Requests in the chosen (rare) languages ring several interpreters at once.', pf_fan_out: 'Rung at once (2 to 8)',
    pf_order: 'Order', pf_order_tier_then_longest_idle: 'By tier, then longest idle', pf_order_longest_idle: 'Longest idle first',
    pf_fix: 'Correct the fields marked in red.',
    pf_no_tier: 'Choose at least one tier.', pf_zero_not_last: 'Only the last step can be 0 (for good).', pf_no_steps: 'Keep at least one step.',
    pins: 'Language order', pins_help: "The desks' language grid shows these first, in this order; the others follow by how often they were interpreted.",
    pins_add: 'Add a language', pins_up: 'Up', pins_down: 'Down', pins_remove: 'Remove',
    partners: 'Referral partners', partners_help: 'Where desks may refer residents, chosen with a consultation\'s outcome: organisations and departments, never a person. Retire those no longer used (records keep them).',
    records_policy: 'Records kept', keep_records: 'Call records kept (days)', keep_audit: 'Audit entries kept (days)', keep_notes: 'Handling notes kept (days)',
    handling_notes: 'Desks may write handling notes', handling_notes_help: "After a consultation the desk may leave a note of up to 500 characters. It is stored encrypted and only this municipality's coordinators can read it (every read is recorded). Never in statistics or shared reports.",
    audit_log: 'Audit log (latest 100)', audit_at: 'When', audit_actor: 'Who', audit_action: 'What', audit_target: 'On', audit_ok: 'Done', audit_refused: 'Refused',
    partner_kind: 'Kind', partner_active: 'In use', partner_retired: 'Retired', partner_retire: 'Retire', partner_restore: 'Bring back',
    kind_immigration: 'Immigration bureau', kind_legal_aid: 'Legal aid (Houterasu, bar association)', kind_employment: 'Hello Work', kind_labour_standards: 'Labour standards office',
    kind_social_welfare: 'Social welfare council', kind_npo: 'NPO, support group', kind_international_association: 'International association', kind_japanese_class: 'Japanese class',
    kind_municipal_department: "The municipality's department", kind_other: 'Other',
    c_title: 'Opening calendar', c_help: "Shown to residents on the standing link; outside these hours the phone lines and the online desk take nobody, and the desks' \"nobody now\" answers keep to them.",
    c_unset: "Not set yet (shown: a municipal office's weekdays 8:30–17:15). Once saved, the phone lines and the online desk take callers only within these hours.",
    c_hours: 'Opening hours', c_add_hours: 'Add opening hours', c_open: 'Opens', c_close: 'Closes', c_holidays: 'Closed on public holidays', c_year_end: "Closed over the year's end (29 Dec–3 Jan)",
    c_closures: 'Closures', c_add_closure: 'Add a closure', c_reason: 'Reason (shown to residents)', c_extra: 'Extra openings (evening sessions…)', c_add_extra: 'Add an extra opening',
    c_note: 'Note (shown to residents)', c_backwards: 'It closes before it opens.', c_two_weeks: 'The next two weeks', c_closed: 'Closed', c_open_now: 'Open now.', c_next_open: 'Opens next: {at}',
    err_invalid_field: 'Something entered is not right: {m}', err_not_found: 'Not found: {m}', err_rate_limited: 'Too many actions. Wait a moment.',
    err_internal: 'A problem on the server ({m}).', err_unauthorized: 'Please sign in again.',
  },
};

const TOKEN = 'kk.admin.token';
/** `admin` or `supervisor`: a supervisor reads, and is not shown the forms only admins may use. */
const ROLE = 'kk.admin.role';
const state = {
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN),
  /** @type {any[]} */
  tenants: [],
  /** @type {any[]} */
  interpreters: [],
  /** @type {number | null} */
  editing: null,
  /** @type {number | null} */
  policyTenant: null,
  /** @type {string[] | null} the language catalogue, once asked for */
  catalogue: null,
  /** @type {number | null} */
  pinsTenant: null,
  tab: 'tenants',
};

function setLanguage(/** @type {string} */ lang) {
  localStorage.setItem('kk.admin.lang', lang);
  const l = STRINGS[lang] ? lang : 'ja';
  use(lang, { ...STRINGS[l], ...ROSTER_STRINGS[l] }, { ...STRINGS.en, ...ROSTER_STRINGS.en });
  document.title = t('app');
  apply();
}
$('switch-lang').addEventListener('click', () => setLanguage(document.documentElement.lang === 'ja' ? 'en' : 'ja'));

/** @param {string} path @param {{ method?: string, body?: any }} [o] */
const call = (path, o = {}) => api(path, { ...o, token: state.token });

/** @param {unknown} e */
function failed(e) {
  const err = /** @type {any} */ (e);
  if (err.status === 401) return signedOut();
  notice(err.status === 403 && err.code !== 'second_factor_setup' ? t('admins_only') : sayError(err), 'error');
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await signIn('staff');
    if (!r) return;
    state.token = r.token;
    sessionStorage.setItem(TOKEN, r.token);
    sessionStorage.setItem(ROLE, r.role);
    notice(null);
    if (r.second_factor_setup) await setUp(r.token, true);
    await open('tenants');
  } catch {
    notice(t('signin_bad'), 'error');
  }
});
secondFactorButton(() => state.token);
$('sign-out').addEventListener('click', async () => {
  const token = state.token;
  signedOut();
  if (token) await api('/api/sign-out', { method: 'POST', token }).catch(() => {});
});

function signedOut() {
  state.token = null;
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(ROLE);
  $('tabs').hidden = true;
  $('sign-out').hidden = true;
  show('signin');
}

for (const b of document.querySelectorAll('#tabs button')) {
  b.addEventListener('click', () => void open(b.getAttribute('data-tab') || 'tenants'));
}

/** Whether the signed-in person is an admin (not a supervisor). */
function isAdmin() {
  return sessionStorage.getItem(ROLE) !== 'supervisor';
}

/** @param {string} tab */
async function open(tab) {
  state.tab = tab;
  // What only admins may do is not offered to a supervisor.
  const admin = isAdmin();
  for (const id of ['tenant-form', 'desk-form', 'interpreter-form']) $(id).hidden = !admin;
  document.body.classList.toggle('reader', !admin);
  $('tabs').hidden = false;
  $('sign-out').hidden = false;
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-pressed', String(b.getAttribute('data-tab') === tab));
  try {
    state.tenants = await call('/api/tenants');
    if (tab === 'tenants') renderTenants();
    if (tab === 'desks') renderDesks(await call('/api/desks'));
    if (tab === 'interpreters') {
      state.interpreters = await call('/api/interpreters');
      renderInterpreters();
    }
    show(tab);
  } catch (e) {
    failed(e);
  }
}

// ---- tenants -------------------------------------------------------------------------------

function renderTenants() {
  $('tenant-rows').replaceChildren(
    ...state.tenants.map((tn) =>
      h('tr', {}, h('td', {}, String(tn.id)), h('td', {}, tn.name), h('td', { class: 'num' }, String(tn.foreign_residents)), h('td', {}, tn.time_zone),
        h('td', {},
          isAdmin() ? h('button', { type: 'button', class: 'policy', onclick: () => editPolicy(tn) }, t('policy')) : '',
          ' ',
          h('button', { type: 'button', class: 'pins', onclick: () => editPins(tn) }, t('pins')),
          ' ',
          h('button', { type: 'button', class: 'partners', onclick: () => void renderPartners($('partners-panel'), tn, call, failed) }, t('partners')),
          ' ',
          h('button', { type: 'button', class: 'records', onclick: () => void renderRecords($('records-panel'), tn, call, failed, isAdmin()) }, t('records_policy')),
          ' ',
          h('button', { type: 'button', class: 'calendar', onclick: () => void openCalendar(tn) }, t('c_title')))),
    ),
  );
}

/** @param {any} tn */
async function openCalendar(tn) {
  const panel = $('calendar-panel');
  await renderCalendar(panel, tn, call, failed);
  panel.scrollIntoView({ block: 'start' });
  /** @type {HTMLElement | null} */ (panel.querySelector('h2'))?.focus({ preventScroll: true });
}

/** @param {any} tn */
async function editPolicy(tn) {
  state.policyTenant = tn.id;
  $('policy-title').textContent = `${t('policy')}: ${tn.name}`;
  renderPolicy($('policy-fields'), tn.policy, await catalogue());
  $('policy-form').hidden = false;
  $('policy-form').scrollIntoView({ block: 'nearest' });
  $('policy-fields').querySelector('input')?.focus();
}
$('policy-cancel').addEventListener('click', () => ($('policy-form').hidden = true));

/** The language catalogue's tags (asked for once). */
async function catalogue() {
  state.catalogue ||= (await call('/api/languages')).map((/** @type {any} */ l) => l.tag);
  return /** @type {string[]} */ (state.catalogue);
}

/** @param {any} tn */
async function editPins(tn) {
  state.pinsTenant = tn.id;
  $('pins-title').textContent = `${t('pins')}: ${tn.name}`;
  renderPins($('pins-fields'), tn.pinned_languages || [], await catalogue());
  $('pins-form').hidden = false;
  $('pins-form').scrollIntoView({ block: 'nearest' });
}
$('pins-cancel').addEventListener('click', () => ($('pins-form').hidden = true));
$('pins-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await call(`/api/tenants/${state.pinsTenant}/languages`, { method: 'PUT', body: { pinned: readPins($('pins-fields')) } });
    $('pins-form').hidden = true;
    notice(t('saved'));
    await open('tenants');
  } catch (err) {
    failed(err);
  }
});
$('policy-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!checkPolicy($('policy-fields'))) {
    notice(t('pf_fix'), 'error');
    return;
  }
  try {
    await call(`/api/tenants/${state.policyTenant}/policy`, { method: 'PUT', body: readPolicy($('policy-fields')) });
    $('policy-form').hidden = true;
    notice(t('saved'));
    await open('tenants');
  } catch (err) {
    const e = /** @type {any} */ (err);
    if (e.status === 422 && showPolicyError($('policy-fields'), e)) notice(t('pf_fix'), 'error');
    else failed(err);
  }
});
$('tenant-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await call('/api/tenants', {
      method: 'POST',
      body: {
        name: $('tenant-name', HTMLInputElement).value.trim(),
        foreign_residents: Number($('tenant-residents', HTMLInputElement).value),
        time_zone: $('tenant-tz', HTMLInputElement).value.trim(),
      },
    });
    $('tenant-name', HTMLInputElement).value = '';
    notice(t('saved'));
    await open('tenants');
  } catch (err) {
    failed(err);
  }
});

// ---- desks ---------------------------------------------------------------------------------

/** @param {any[]} desks */
function renderDesks(desks) {
  const name = (/** @type {number} */ id) => state.tenants.find((tn) => tn.id === id)?.name || String(id);
  $('desk-rows').replaceChildren(
    ...desks.map((d) =>
      h('tr', {}, h('td', {}, String(d.id)), h('td', {}, name(d.tenant)), h('td', {}, d.name),
        h('td', {}, d.revoked ? t('revoked') : d.enrolled ? t('enrolled') : t('not_enrolled')),
        h('td', {}, d.revoked || !isAdmin() ? '' : h('button', { type: 'button', class: 'danger', onclick: () => revoke(d.id) }, t('revoke')))),
    ),
  );
  $('desk-tenant').replaceChildren(...state.tenants.map((tn) => h('option', { value: tn.id }, tn.name)));
}

/** @param {number} id */
async function revoke(id) {
  if (!confirm(t('revoke_confirm'))) return;
  try {
    await call(`/api/desks/${id}`, { method: 'DELETE' });
    await open('desks');
  } catch (e) {
    failed(e);
  }
}
$('desk-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await call(`/api/tenants/${$('desk-tenant', HTMLSelectElement).value}/desks`, {
      method: 'POST',
      body: { name: $('desk-name', HTMLInputElement).value.trim() },
    });
    $('desk-name', HTMLInputElement).value = '';
    await open('desks');
    $('desk-code').textContent = t('code', { code: r.enrolment_code });
    $('desk-code').hidden = false;
  } catch (err) {
    failed(err);
  }
});

// ---- interpreters ----------------------------------------------------------------------------

function renderInterpreters() {
  $('interpreter-rows').replaceChildren(
    ...state.interpreters.map((i) =>
      h('tr', {}, h('td', {}, String(i.id)), h('td', {}, i.login), h('td', {}, i.tier), h('td', {}, i.languages.join(', ')),
        h('td', {}, `${i.tenants.join(', ')}${i.shared_pool ? ' +pool' : ''}`),
        h('td', {}, isAdmin() ? h('button', { type: 'button', onclick: () => editInterpreter(i) }, t('edit')) : '',
          isAdmin() || i.tenants.some((/** @type {number} */ id) => state.tenants.some((tn) => tn.id === id))
            ? h('button', { type: 'button', class: 'roster', onclick: () => openRoster(i, call, failed, () => open('interpreters')) }, t('roster')) : '')),
    ),
  );
  if (state.editing === null) newInterpreter();
}

const list = (/** @type {string} */ id) => $(id, HTMLInputElement).value.split(',').map((s) => s.trim()).filter(Boolean);

function newInterpreter() {
  state.editing = null;
  $('interpreter-title').textContent = t('add_interpreter');
  for (const id of ['i-login', 'i-password', 'i-languages', 'i-specialities', 'i-tenants', 'i-phone']) $(id, HTMLInputElement).value = '';
  $('i-login', HTMLInputElement).disabled = false;
  $('i-password', HTMLInputElement).disabled = false;
  $('i-modalities', HTMLInputElement).value = 'video, audio';
  $('i-shared', HTMLInputElement).checked = false;
  renderRoster($('i-roster'), { always: false, time_zone: 'Asia/Tokyo', shifts: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:30', end: '17:15' }], off: [], extra: [] });
}
$('interpreter-new').addEventListener('click', newInterpreter);

/** @param {any} i */
function editInterpreter(i) {
  state.editing = i.id;
  $('interpreter-title').textContent = t('edit_interpreter', { id: i.id });
  $('i-login', HTMLInputElement).value = i.login;
  $('i-login', HTMLInputElement).disabled = true;
  $('i-password', HTMLInputElement).value = '';
  $('i-password', HTMLInputElement).disabled = true;
  $('i-tier', HTMLSelectElement).value = i.tier;
  $('i-languages', HTMLInputElement).value = i.languages.join(', ');
  $('i-modalities', HTMLInputElement).value = i.modalities.join(', ');
  $('i-specialities', HTMLInputElement).value = i.specialities.join(', ');
  $('i-tenants', HTMLInputElement).value = i.tenants.join(', ');
  $('i-shared', HTMLInputElement).checked = i.shared_pool;
  $('i-phone', HTMLInputElement).value = i.reach_by_phone || '';
  renderRoster($('i-roster'), i.roster);
  $('i-tier').focus();
}

$('interpreter-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!checkRoster($('i-roster'))) {
    notice(t('pf_fix'), 'error');
    return;
  }
  const roster = readRoster($('i-roster'));
  /** @type {Record<string, any>} */
  const body = {
    tier: $('i-tier', HTMLSelectElement).value,
    languages: list('i-languages'),
    modalities: list('i-modalities'),
    specialities: list('i-specialities'),
    tenants: list('i-tenants').map(Number),
    shared_pool: $('i-shared', HTMLInputElement).checked,
    roster,
    reach_by_phone: $('i-phone', HTMLInputElement).value.trim() || null,
  };
  try {
    if (state.editing === null) {
      body.login = $('i-login', HTMLInputElement).value.trim();
      body.password = $('i-password', HTMLInputElement).value;
      await call('/api/interpreters', { method: 'POST', body });
    } else {
      await call(`/api/interpreters/${state.editing}`, { method: 'PUT', body });
    }
    state.editing = null;
    notice(t('saved'));
    await open('interpreters');
  } catch (err) {
    if (/^roster/.test(/** @type {any} */ (err).problem?.field ?? '')) showRosterError($('i-roster'), err);
    failed(err);
  }
});

setLanguage(localStorage.getItem('kk.admin.lang') || 'ja');
if (state.token) void open('tenants');
else show('signin');
