// The roster calendar's strings (common/roster.js), merged into the admin page's and the
// interpreter console's tables.

/** @type {Record<string, Record<string, string>>} */
export const ROSTER_STRINGS = {
  ja: {
    r_always: '常に勤務(曜日や時間を決めない)', r_always_drops_own: '常に勤務にすると、通訳者本人が登録した休み・追加の勤務({n}件)も消えます。', r_time_zone: 'タイムゾーン', r_shifts: '決まった勤務', r_weekly: '毎週', r_monthly: '毎月',
    r_add_weekly: '毎週の勤務を追加', r_add_monthly: '毎月の勤務を追加(例:第1・第3水曜)', r_kind: '繰り返し', r_days: '曜日', r_weekday: '曜日',
    r_nth: '第何週', r_nth_n: '第{n}', r_last: '最終', r_start: '開始', r_end: '終了', r_remove: '削除', r_off: '休み', r_add_off: '休みを追加',
    r_from: '最初の日', r_until: '最後の日', r_extra: '追加の勤務', r_add_extra: '追加の勤務を追加', r_date: '日付', r_own: '本人が登録',
    r_week: '週の表示', r_prev_week: '前の週', r_next_week: '次の週', r_goto: 'この日の週:', r_day_off: '休み', r_no_shift: '—', r_overnight: '翌',
    r_no_days: '曜日を1つ以上選んでください。', r_no_nth: '第何週かを1つ以上選んでください。', r_same_time: '開始と終了が同じです。',
    r_backwards: '最後の日が最初の日より前です。', r_none: 'ありません。', r_shifts_by_coordinator: '決まった勤務はコーディネーターが設定します。',
    r_summary_weekly: '毎週 {days} {start}〜{end}', r_summary_monthly: '毎月 {nth} {day} {start}〜{end}',
    wd_mon: '月', wd_tue: '火', wd_wed: '水', wd_thu: '木', wd_fri: '金', wd_sat: '土', wd_sun: '日',
  },
  en: {
    r_always: 'Always on duty (no days or hours set)', r_always_drops_own: 'Always on duty also drops the {n} days off and extra hours the interpreter set themselves.', r_time_zone: 'Time zone', r_shifts: 'Regular shifts', r_weekly: 'Every week', r_monthly: 'Every month',
    r_add_weekly: 'Add a weekly shift', r_add_monthly: 'Add a monthly shift (e.g. 1st and 3rd Wednesday)', r_kind: 'Repeats', r_days: 'Days', r_weekday: 'Weekday',
    r_nth: 'Which', r_nth_n: '{n}.', r_last: 'Last', r_start: 'From', r_end: 'Until', r_remove: 'Remove', r_off: 'Days off', r_add_off: 'Add days off',
    r_from: 'First day', r_until: 'Last day', r_extra: 'Extra hours', r_add_extra: 'Add extra hours', r_date: 'Date', r_own: 'Set by the interpreter',
    r_week: 'The week', r_prev_week: 'Previous week', r_next_week: 'Next week', r_goto: 'The week of:', r_day_off: 'Off', r_no_shift: '—', r_overnight: 'next day',
    r_no_days: 'Choose at least one day.', r_no_nth: 'Choose at least one week of the month.', r_same_time: 'It starts and ends at the same time.',
    r_backwards: 'The last day is before the first.', r_none: 'None.', r_shifts_by_coordinator: 'Your coordinator sets the regular shifts.',
    r_summary_weekly: 'Every {days} {start}–{end}', r_summary_monthly: 'The {nth} {day} of each month {start}–{end}',
    wd_mon: 'Mon', wd_tue: 'Tue', wd_wed: 'Wed', wd_thu: 'Thu', wd_fri: 'Fri', wd_sat: 'Sat', wd_sun: 'Sun',
  },
};
