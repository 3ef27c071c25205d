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
};
