// messages/signup.js — the register page's invite field and closed notice
// (signup-mode.js): how the pages follow the server's registration mode.

export default {
  en: {
    "signup.closed": "Sign-up is closed on this box. Ask its owner for an account.",
    "signup.invite": "Invite code",
    "signup.inviteHint": "From the invite link you were sent.",
  },
  "zh-CN": {
    "signup.closed": "此服务器已关闭注册，请向其管理员申请账户。",
    "signup.invite": "邀请码",
    "signup.inviteHint": "来自你收到的邀请链接。",
  },
  "zh-TW": {
    "signup.closed": "此伺服器已關閉註冊，請向其管理員申請帳號。",
    "signup.invite": "邀請碼",
    "signup.inviteHint": "來自你收到的邀請連結。",
  },
};
