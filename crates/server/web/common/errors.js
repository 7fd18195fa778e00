// Server errors by code, in the desk's and the console's languages (`errorText` in
// i18n.js picks one by the error's code, the server's detail as `{m}`).

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
