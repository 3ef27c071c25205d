// messages/register.js — the registration page.

export default {
  en: {
    "register.pageTitle": "Create account · AuthUpload",
    "register.title": "Create your account",
    "register.subtitle": "It takes a few seconds. No e-mail needed.",
    "register.submit": "Create account",
    "register.working": "Creating account…",
    "register.haveAccount": "Already have an account?",
    "register.loginLink": "Log in",
    "register.success": "Account “{name}” created. Taking you to the login page…",
  },
  "zh-CN": {
    "register.pageTitle": "注册 · AuthUpload",
    "register.title": "创建账户",
    "register.subtitle": "只需几秒钟，无需电子邮件。",
    "register.submit": "注册",
    "register.working": "正在注册…",
    "register.haveAccount": "已有账户？",
    "register.loginLink": "登录",
    "register.success": "账户“{name}”已创建，正在前往登录页…",
  },
  "zh-TW": {
    "register.pageTitle": "註冊 · AuthUpload",
    "register.title": "建立你的帳號",
    "register.subtitle": "只要幾秒鐘，不需要電子郵件。",
    "register.submit": "註冊",
    "register.working": "註冊中…",
    "register.haveAccount": "已經有帳號了？",
    "register.loginLink": "登入",
    "register.success": "帳號「{name}」已建立，正在前往登入頁面…",
  },
};
