// Server errors by code, in the desk's and the console's languages (`errorText` in
// i18n.js picks one by the error's code, the server's detail as `{m}`).

import { errorText, lang } from './i18n.js';

/** @type {Record<string, Record<string, string>>} */
export const ERRORS = {
  ja: {
    err_not_allowed: '今はできない操作です。',
    err_not_found: '対象が見つかりません（すでに終わっている可能性があります）。',
    err_rate_limited: '操作が多すぎます。少し待ってからもう一度お試しください。',
    err_invalid_field: '入力内容に誤りがあります:{m}',
    err_media_unavailable: 'このサーバーでは映像・音声が使えません。',
    err_codec_unsupported: 'この端末の映像方式に対応していないため、音声のみで参加しています。',
    err_internal: 'サーバーで問題が起きました。もう一度お試しください（{m}）。',
    err_unauthorized: '認証が切れました。もう一度サインインしてください。',
    err_too_large: '送信データが大きすぎます。',
  },
  en: {
    err_not_allowed: "That cannot be done now.",
    err_not_found: "Not found (it may have ended already).",
    err_rate_limited: "Too many actions. Wait a moment and try again.",
    err_invalid_field: "Something entered is not right: {m}",
    err_media_unavailable: "Audio and video are not available on this server.",
    err_codec_unsupported: "This device's video format is not supported in this call: you take part with voice only.",
    err_internal: "A problem on the server. Please try again ({m}).",
    err_unauthorized: "Your sign-in has ended. Please sign in again.",
    err_too_large: "What was sent is too large.",
  },
};

// What is wrong with a field (the server's `error.problem`), said in the page's language:
// Japanese on Japanese pages, English elsewhere. The server's English message is the
// fallback for a code this table does not know.

/** @typedef {{ field: string, code: string, min?: number, max?: number, unit?: string, allowed?: string[] }} Problem */

/** @type {Record<'ja' | 'en', Record<string, string>>} */
const PROBLEMS = {
  ja: {
    required: '入力してください。',
    range_both: '{min}〜{max}{unit}にしてください。', range_min: '{min}{unit}以上にしてください。', range_max: '{max}{unit}以下にしてください。',
    entries_min: '{min}件以上必要です。', entries_max: '{max}件までです。',
    not_time: '時刻を HH:MM の形で入力してください。', not_date: '日付を YYYY-MM-DD の形で入力してください。',
    not_date_time: '日時の形が正しくありません。', not_month: '月を YYYY-MM の形で入力してください。',
    not_weekday: '曜日が正しくありません。', not_time_zone: 'タイムゾーンが正しくありません(例 Asia/Tokyo)。',
    not_language: '言語コードが正しくありません(例 vi, pt, ne)。',
    not_phone: '電話番号は3〜20桁の数字で入力してください(+ - ( ) と空白も使えます)。',
    one_of: '次のいずれかにしてください:{allowed}', duplicate: '同じものが2回指定されています。',
    unknown: '存在しないものが指定されています。', taken: 'すでに使われています。',
    before_start: '終わりが始まりより前になっています。', same_time: '始まりと終わりが同じ時刻です。',
    desk_side: '日本語は窓口側の言語です(通訳の対象にはできません)。',
    too_soon: '時間が近すぎます。もっと後の時間を選んでください。', past: '過去の日時は指定できません。',
    too_far: '{max}日先までしか指定できません。', not_hundred: '割合の合計を100にしてください。',
    wrong_code: '認証アプリの現在のコードと一致しません。', not_kept: 'この自治体では対応メモを保存しません。',
    read_only: 'ここでは変更できません。', not_applicable: 'ここでは指定できません。',
    not_fraction: '0より大きく1より小さい値にしてください(0.8 は 80%)。',
    always_alone: '常時対応の勤務表には、シフト・休み・追加の時間を入れられません。',
    days_or_weekday: '毎週の曜日か、毎月の第何曜日か、どちらか一方を指定してください。',
    open_step: '時間を0にできるのは最後の段階だけです。',
    u_characters: '文字', u_entries: '件', u_days: '日', u_yen: '円', u_number: '',
    s_hours: '{n}時間', s_minutes: '{n}分', s_seconds: '{n}秒',
    fld_name: '名前', fld_login: 'ログイン名', fld_password: 'パスワード', fld_time_zone: 'タイムゾーン',
    fld_languages: '言語', fld_modalities: '方法', fld_tenants: '担当自治体', fld_reach_by_phone: '電話番号',
    fld_specialities: '分野', fld_tier: '区分', fld_pinned: '固定する言語', fld_roster: '勤務表', fld_policy: '振り分け方針',
    fld_monthly_cost: '月額費用', fld_usage_percent: '割合', fld_usage_basis: '利用量の基準', fld_foreign_residents: '外国人住民数',
    fld_text: '本文', fld_tenant: '自治体', fld_desk: '窓口', fld_interpreter: '通訳者', fld_start: '開始',
    fld_minutes: '時間(分)', fld_language: '言語', fld_intake_note: '事前メモ', fld_code: 'コード',
    fld_records_days: '通話記録の保存期間', fld_audit_days: '操作記録の保存期間', fld_notes_days: '対応メモの保存期間',
    fld_kind: '種類', fld_off: '休み', fld_extra: '追加の時間', fld_hours: '開所時間', fld_closures: '休館日',
    fld_shifts: 'シフト', fld_month: '月', fld_date: '日付', fld_steps: '段階',
    row: '{label}({n}件目)',
  },
  en: {
    required: 'Required.',
    range_both: '{min} to {max}{unit}, please.', range_min: 'At least {min}{unit}, please.', range_max: 'At most {max}{unit}, please.',
    entries_min: 'At least {min} needed.', entries_max: 'At most {max}.',
    not_time: 'Enter a time as HH:MM.', not_date: 'Enter a date as YYYY-MM-DD.', not_date_time: 'Not a valid date and time.',
    not_month: 'Enter a month as YYYY-MM.', not_weekday: 'Not a weekday.', not_time_zone: 'Not a time zone (e.g. Asia/Tokyo).',
    not_language: 'Not a language code (e.g. vi, pt, ne).',
    not_phone: 'A phone number: 3 to 20 digits (+ - ( ) and spaces allowed).',
    one_of: 'One of: {allowed}', duplicate: 'Named twice.', unknown: 'Names something that does not exist.',
    taken: 'Already taken.', before_start: 'It ends before it starts.', same_time: 'It starts and ends at the same time.',
    desk_side: 'Japanese is the desk side (not a language to interpret).',
    too_soon: 'Too soon: choose a later time.', past: 'Not in the past.', too_far: 'At most {max} days ahead.',
    not_hundred: 'The parts must add up to 100.', wrong_code: 'Not the current code of the authenticator app.',
    not_kept: 'This municipality keeps no handling notes.', read_only: 'Not changed here.', not_applicable: 'Does not apply here.',
    not_fraction: 'Above 0 and below 1 (0.8 is 80%).',
    always_alone: 'An always-on roster has no shifts, days off or extra hours.',
    days_or_weekday: 'Give weekly days or a monthly weekday, one of them.',
    open_step: 'Only the last step may have no time.',
    u_characters: ' characters', u_entries: '', u_days: ' days', u_yen: ' yen', u_number: '',
    s_hours: '{n} h', s_minutes: '{n} min', s_seconds: '{n} s',
    fld_name: 'Name', fld_login: 'Login', fld_password: 'Password', fld_time_zone: 'Time zone',
    fld_languages: 'Languages', fld_modalities: 'Modalities', fld_tenants: 'Municipalities served', fld_reach_by_phone: 'Phone number',
    fld_specialities: 'Specialities', fld_tier: 'Tier', fld_pinned: 'Pinned languages', fld_roster: 'Roster', fld_policy: 'Routing policy',
    fld_monthly_cost: 'Monthly cost', fld_usage_percent: 'Shares', fld_usage_basis: 'Usage basis', fld_foreign_residents: 'Foreign residents',
    fld_text: 'Text', fld_tenant: 'Municipality', fld_desk: 'Desk', fld_interpreter: 'Interpreter', fld_start: 'Start',
    fld_minutes: 'Minutes', fld_language: 'Language', fld_intake_note: 'Intake note', fld_code: 'Code',
    fld_records_days: 'Call records kept', fld_audit_days: 'Audit log kept', fld_notes_days: 'Handling notes kept',
    fld_kind: 'Kind', fld_off: 'Days off', fld_extra: 'Extra hours', fld_hours: 'Opening hours', fld_closures: 'Closures',
    fld_shifts: 'Shifts', fld_month: 'Month', fld_date: 'Date', fld_steps: 'Steps',
    row: '{label} (entry {n})',
  },
};

/** @param {string} key @param {Record<string, string | number>} [vars] */
function say(key, vars = {}) {
  const table = lang().startsWith('ja') ? PROBLEMS.ja : PROBLEMS.en;
  let s = table[key] ?? PROBLEMS.en[key] ?? '';
  for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** A number of seconds as hours, minutes or seconds. @param {number} s */
function duration(s) {
  if (s % 3600 === 0) return say('s_hours', { n: s / 3600 });
  if (s % 60 === 0) return say('s_minutes', { n: s / 60 });
  return say('s_seconds', { n: s });
}

/**
 * What is wrong, without the field, in the page's language; '' for a code not known here.
 * @param {Problem} p
 */
export function problemText(p) {
  if (p.code !== 'range') return say(p.code, { max: p.max ?? '', allowed: (p.allowed || []).join(', ') });
  const n = (/** @type {number | undefined} */ v) => (v === undefined ? '' : p.unit === 'seconds' ? duration(v) : v.toLocaleString());
  const unit = p.unit === 'seconds' ? '' : say(`u_${p.unit || 'number'}`);
  const min = n(p.min), max = n(p.max);
  if (p.unit === 'entries' && (p.min === undefined || p.max === undefined)) {
    return p.min === undefined ? say('entries_max', { max }) : say('entries_min', { min });
  }
  if (p.min !== undefined && p.max !== undefined) return say('range_both', { min, max, unit });
  return p.min !== undefined ? say('range_min', { min, unit }) : say('range_max', { max, unit });
}

/**
 * The field's name for people: `hours[2].close` is the opening hours' third entry.
 * @param {string} field
 */
export function fieldLabel(field) {
  const parts = field.replace(/^(policy|roster)\./, '').split('.');
  const m = /^([a-z_]+)(?:\[(\d+)\])?$/.exec(parts[0]) || [];
  const label = say(`fld_${m[1]}`) || field;
  return m[2] === undefined ? label : say('row', { label, n: Number(m[2]) + 1 });
}

/**
 * A server error in the page's language: a field's problem as "field: what is wrong",
 * else the error's code (`errorText`), else the server's message.
 * @param {any} err an error from `api()` (`code`, `message`, `problem`)
 * @param {{ field?: boolean, byCode?: boolean }} [o] `field: false` when the text goes
 *   beside the field; `byCode: false` to keep the server's reason (a booking refused by
 *   the engine says why) rather than the code's general words
 */
export function sayError(err, { field = true, byCode = true } = {}) {
  const p = /** @type {Problem | undefined} */ (err?.problem);
  const text = p && problemText(p);
  if (text) return field ? `${fieldLabel(p.field)}: ${text}` : text;
  const message = err?.message || String(err);
  return byCode ? errorText(err?.code, message) : message;
}

/**
 * The field a refusal names and what to say beside it, in the page's language (the
 * server's words for a code this table does not know); null when it names no field.
 * @param {any} err
 * @returns {{ field: string, text: string } | null}
 */
export function fieldError(err) {
  const p = /** @type {Problem | undefined} */ (err?.problem);
  return p ? { field: p.field, text: problemText(p) || String(err.message).replace(/^[^:]*: /, '') } : null;
}
