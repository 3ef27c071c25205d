"""Human messages, by stable key, in English, Simplified and Traditional Chinese.

Every envelope carries a ``message`` for people and, on errors, a ``data.error``
key for programs. Programs (our pages included) translate by key; the message
is a convenience, chosen by the request's ``Accept-Language`` (RFC 9110
§12.5.4). Because the body depends on that header, every envelope carries
``Vary: Accept-Language`` so a cache never serves Chinese to an English reader.

A key may be refined by a field (``invalid_field.username``): the more
specific message wins where one exists.
"""

from __future__ import annotations

import functools

ENGLISH = "en"
SIMPLIFIED_CHINESE = "zh-CN"
TRADITIONAL_CHINESE = "zh-TW"  # the tutorial this project grew from is written in Traditional characters
LANGUAGES = (ENGLISH, SIMPLIFIED_CHINESE, TRADITIONAL_CHINESE)  # the order of each MESSAGES entry
# Chinese without a script subtag: these regions write Traditional characters, the rest Simplified.
TRADITIONAL_REGIONS = {"tw", "hk", "mo"}

MESSAGES: dict[str, tuple[str, str, str]] = {  # key → (en, zh-CN, zh-TW)
    # successes
    "ok": ("OK.", "成功。", "成功。"),
    "registered": ("Registered.", "注册成功。", "註冊成功。"),
    "logged_in": ("Logged in.", "登录成功。", "登入成功。"),
    "logged_out": ("Logged out.", "已退出登录。", "已登出。"),
    "password_changed": ("Password changed; other sessions were signed out.", "密码已修改，其他会话已退出。", "密碼已變更，其他工作階段已登出。"),
    "token_refreshed": ("Token refreshed.", "令牌已刷新。", "權杖已更新。"),
    "profile": ("Your account.", "您的账户。", "您的帳號。"),
    "uploaded": ("Uploaded.", "上传成功。", "上傳成功。"),
    "file_list": ("Your files.", "您的文件。", "您的檔案。"),
    "file_deleted": ("File deleted.", "文件已删除。", "檔案已刪除。"),
    "link_created": ("Download link created.", "下载链接已生成。", "下載連結已建立。"),
    "healthy": ("The server is running.", "服务器运行正常。", "伺服器運作正常。"),
    "server_settings": ("Server settings.", "服务器设置。", "伺服器設定。"),
    "mfa_required": ("Password accepted; now the code from your authenticator app.",
                     "密码正确；请输入身份验证器应用中的验证码。", "密碼正確；請輸入驗證器 App 中的驗證碼。"),
    "totp_setup": ("Scan the code with your authenticator app, then confirm with a code.",
                   "请用身份验证器应用扫描二维码，然后输入验证码确认。", "請用驗證器 App 掃描 QR 碼，再輸入驗證碼確認。"),
    "totp_enabled": ("Two-factor sign-in is on. Keep the recovery codes somewhere safe.",
                     "两步验证已开启。请妥善保存恢复码。", "兩步驟驗證已開啟。請妥善保存備用碼。"),
    "totp_disabled": ("Two-factor sign-in is off.", "两步验证已关闭。", "兩步驟驗證已關閉。"),
    "recovery_codes": ("New recovery codes; the old ones no longer work.", "已生成新的恢复码，旧恢复码已失效。",
                       "已產生新的備用碼，舊的備用碼已失效。"),
    "session_list": ("Where you are signed in.", "您的登录会话。", "您已登入的工作階段。"),
    "session_ended": ("Session ended.", "会话已结束。", "工作階段已結束。"),
    "sessions_ended": ("Every other session ended.", "其他会话均已结束。", "其他工作階段皆已結束。"),
    "activity": ("Your recent account activity.", "您最近的账户活动。", "您帳號最近的活動。"),
    "share_created": ("Share created.", "分享已创建。", "分享已建立。"),
    "share_list": ("Your shares.", "您的分享。", "您的分享。"),
    "share_revoked": ("Share revoked; its link no longer works.", "分享已撤销，链接已失效。", "分享已撤銷，連結已失效。"),
    "share_info": ("A shared set of files.", "分享的文件。", "分享的檔案。"),
    "share_unlocked": ("Unlocked for one hour.", "已解锁，一小时内有效。", "已解鎖，一小時內有效。"),
    "request_created": ("Upload request created.", "上传请求已创建。", "上傳請求已建立。"),
    "request_list": ("Your upload requests.", "您的上传请求。", "您的上傳請求。"),
    "request_closed": ("Upload request closed; files already received stay.", "上传请求已关闭，已收到的文件会保留。",
                       "上傳請求已關閉，已收到的檔案會保留。"),
    "request_info": ("An upload request.", "上传请求。", "上傳請求。"),
    "drop_session": ("You can send files now.", "现在可以发送文件了。", "現在可以傳送檔案了。"),
    # request errors
    "invalid_json": (
        "The body is not a valid UTF-8 JSON object.",
        "请求体不是有效的 UTF-8 JSON 对象。",
        "請求內容不是有效的 UTF-8 JSON 物件。",
    ),
    "unsupported_media_type": (
        "This Content-Type is not accepted here.",
        "不接受此 Content-Type。",
        "此處不接受這種 Content-Type。",
    ),
    "body_too_large": ("The request body is too large.", "请求体过大。", "請求內容過大。"),
    "invalid_field": ("A field is missing or not valid.", "字段缺失或无效。", "欄位缺少或無效。"),
    "invalid_field.username": (
        "Username must be 6–32 letters, digits or Chinese characters.",
        "用户名须为 6–32 个字母、数字或汉字。",
        "使用者名稱須為 6–32 個字母、數字或漢字。",
    ),
    "invalid_field.password": (
        "Password must be {min_chars}–{max_chars} characters.",
        "密码长度须为 {min_chars}–{max_chars} 个字符。",
        "密碼長度須為 {min_chars}–{max_chars} 個字元。",
    ),
    "invalid_field.new_password": (
        "The new password must be {min_chars}–{max_chars} characters.",
        "新密码长度须为 {min_chars}–{max_chars} 个字符。",
        "新密碼長度須為 {min_chars}–{max_chars} 個字元。",
    ),
    "invalid_field.filename": (
        "The new file name must be UTF-8 text, for exactly one file.",
        "新文件名须为 UTF-8 文本，且只能用于一个文件。",
        "新檔名須為 UTF-8 文字，且只能用於一個檔案。",
    ),
    "invalid_query": ("A query parameter is not valid.", "查询参数无效。", "查詢參數無效。"),
    "bad_request": ("The request is malformed.", "请求格式错误。", "請求格式錯誤。"),
    "headers_too_large": ("The request headers are too large.", "请求头过大。", "請求標頭過大。"),
    # accounts
    "username_taken": ("This username is already taken.", "该用户名已被占用。", "此使用者名稱已被使用。"),
    "invalid_credentials": ("Wrong username or password.", "用户名或密码错误。", "使用者名稱或密碼錯誤。"),
    "invalid_credentials.password": ("Wrong password.", "密码错误。", "密碼錯誤。"),
    "too_many_attempts": ("Too many attempts; try again later.", "尝试次数过多，请稍后再试。", "嘗試次數過多，請稍後再試。"),
    "wrong_old_password": ("The current password is wrong.", "当前密码错误。", "目前的密碼錯誤。"),
    "server_busy": ("The server is busy; try again in a moment.", "服务器繁忙，请稍后再试。", "伺服器忙碌中，請稍後再試。"),
    "invalid_code": ("That code is wrong, expired or already used.", "验证码错误、已过期或已使用。",
                     "驗證碼錯誤、已過期或已使用過。"),
    "totp_already_enabled": ("Two-factor sign-in is already on; turn it off first.", "两步验证已开启，请先关闭。",
                             "兩步驟驗證已經開啟，請先關閉。"),
    "totp_not_enabled": ("Two-factor sign-in is not on.", "两步验证未开启。", "兩步驟驗證尚未開啟。"),
    # tokens
    "token_missing": ("Log in first: this needs a bearer token.", "请先登录：需要 Bearer 令牌。", "請先登入：此操作需要 Bearer 權杖。"),
    "token_invalid": ("The token is not valid.", "令牌无效。", "權杖無效。"),
    "token_expired": ("The token has expired; log in again.", "令牌已过期，请重新登录。", "權杖已過期，請重新登入。"),
    "token_revoked": ("The token was revoked; log in again.", "令牌已被撤销，请重新登录。", "權杖已被撤銷，請重新登入。"),
    # routing
    "not_found": ("Not found.", "未找到。", "找不到。"),
    "forbidden": ("You may not do this.", "您无权执行此操作。", "您無權執行此操作。"),
    "forbidden.access": ("This share needs its password first.", "请先输入此分享的密码。", "請先輸入此分享的密碼。"),
    "share_expired": ("This share has expired.", "此分享已过期。", "此分享已過期。"),
    "share_exhausted": ("This share's downloads are used up.", "此分享的下载次数已用完。", "此分享的下載次數已用完。"),
    "request_expired": ("This upload request has expired.", "此上传请求已过期。", "此上傳請求已過期。"),
    "request_full": ("This upload request takes no more files.", "此上传请求已满，不再接收文件。", "此上傳請求已滿，不再接收檔案。"),
    "method_not_allowed": ("This method is not allowed here.", "不允许使用此方法。", "此處不允許使用這個方法。"),
    # files
    "invalid_multipart": (
        "The multipart body is malformed or has no file part.",
        "multipart 请求体格式错误或缺少 file 部分。",
        "multipart 請求內容格式錯誤，或缺少 file 部分。",
    ),
    "file_too_large": ("The file is larger than the size limit.", "文件超过大小限制。", "檔案超過大小限制。"),
    "quota_exceeded": ("This would exceed your storage quota.", "这将超出您的存储配额。", "這將超出您的儲存空間配額。"),
    "range_not_satisfiable": ("The requested range is outside the file.", "请求的范围超出文件大小。", "請求的範圍超出檔案大小。"),
    "insufficient_storage": ("The server has run out of storage space.", "服务器存储空间不足。", "伺服器儲存空間不足。"),
    "too_many_files": (
        "You have as many files as one account may keep; delete some first.",
        "文件数量已达单个账户的上限，请先删除一些文件。",
        "檔案數量已達單一帳號的上限，請先刪除一些檔案。",
    ),
    "too_many_folders": (
        "You have as many folders as one account may keep; delete some first.",
        "文件夹数量已达单个账户的上限，请先删除一些文件夹。",
        "資料夾數量已達單一帳號的上限，請先刪除一些資料夾。",
    ),
    "too_many_uploads": (
        "You have too many unfinished uploads; finish or cancel some first.",
        "未完成的上传过多，请先完成或取消一些。",
        "未完成的上傳過多，請先完成或取消一些。",
    ),
    # resumable uploads
    "upload_created": ("Upload created.", "上传已创建。", "上傳已建立。"),
    "upload_list": ("Your unfinished uploads.", "您未完成的上传。", "您未完成的上傳。"),
    "tus_version_unsupported": ("Only tus 1.0.0 is supported.", "仅支持 tus 1.0.0。", "僅支援 tus 1.0.0。"),
    "offset_mismatch": (
        "Upload-Offset does not match the bytes stored.",
        "Upload-Offset 与已存储的字节数不符。",
        "Upload-Offset 與已儲存的位元組數不符。",
    ),
    "upload_length_exceeded": (
        "This chunk would pass Upload-Length.",
        "该分块将超出 Upload-Length。",
        "此區塊將超出 Upload-Length。",
    ),
    "checksum_mismatch": (
        "The chunk does not match its Upload-Checksum.",
        "分块与其 Upload-Checksum 不符。",
        "區塊與其 Upload-Checksum 不符。",
    ),
    "checksum_algorithm_unsupported": ("This checksum algorithm is not supported.", "不支持此校验算法。", "不支援此檢查碼演算法。"),
    "invalid_header": ("A header is missing or not valid.", "请求头缺失或无效。", "標頭缺少或無效。"),
    "upload_busy": (
        "Another request is writing to this upload; try again shortly.",
        "另一个请求正在写入此上传，请稍后重试。",
        "另一個請求正在寫入此上傳，請稍後再試。",
    ),
    # operators (English, Simplified Chinese, Traditional Chinese)
    "forbidden": ("Only an admin may do this.", "只有管理员可以执行此操作。", "只有管理員可以執行此操作。"),
    "registration_closed": ("Sign-up is closed; ask the owner of this box for an account.",
                            "注册已关闭，请向此服务器的管理员申请账号。", "註冊已關閉，請向此伺服器的管理員申請帳號。"),
    "invite_required": ("Sign-up needs an invite code.", "注册需要邀请码。", "註冊需要邀請碼。"),
    "invite_invalid": ("This invite code is unknown, expired or used up.", "此邀请码无效、已过期或已用完。",
                       "此邀請碼無效、已過期或已用完。"),
    "account_disabled": ("This account is disabled; ask the owner of this box.", "此账号已被停用，请联系管理员。",
                         "此帳號已被停用，請聯絡管理員。"),
    "last_admin": ("There must always be one enabled admin: make another admin first.",
                   "必须始终保留一名启用的管理员：请先指定另一名管理员。",
                   "必須始終保留一名啟用的管理員：請先指定另一名管理員。"),
    "invalid_field.quota_bytes": ("The quota must be null or a whole number of bytes, at most 1 PiB.",
                                  "配额须为 null 或不超过 1 PiB 的整数字节数。", "配額須為 null 或不超過 1 PiB 的整數位元組數。"),
    "invalid_field.uses": ("Uses must be a whole number from 1 to 1000.", "使用次数须为 1 到 1000 的整数。",
                           "使用次數須為 1 到 1000 的整數。"),
    "invalid_field.expires_in": ("The lifetime must be 1 second to 90 days, in seconds.",
                                 "有效期须为 1 秒到 90 天（以秒为单位）。", "有效期須為 1 秒到 90 天（以秒為單位）。"),
    "invalid_field.invite": ("The invite code must be text.", "邀请码须为文本。", "邀請碼須為文字。"),
    "user_list": ("Accounts.", "账号列表。", "帳號列表。"),
    "user_created": ("Account created.", "账号已创建。", "帳號已建立。"),
    "user_changed": ("Account changed.", "账号已修改。", "帳號已修改。"),
    "user_deleted": ("Account deleted, with everything it stored.", "账号及其全部数据已删除。",
                     "帳號及其全部資料已刪除。"),
    "password_reset": ("Password set; that account's sessions have ended.", "密码已设置，该账号的所有会话已结束。",
                       "密碼已設定，該帳號的所有工作階段已結束。"),
    "invite_list": ("Invites.", "邀请列表。", "邀請列表。"),
    "invite_created": ("Invite created.", "邀请已创建。", "邀請已建立。"),
    "invite_revoked": ("Invite revoked.", "邀请已撤销。", "邀請已撤銷。"),
    "event_list": ("The audit log.", "审计日志。", "稽核日誌。"),
    # folders, search and the trash (English, Simplified Chinese, Traditional Chinese)
    "folder": ("The folder.", "文件夹。", "資料夾。"),
    "folder_created": ("Folder created.", "文件夹已创建。", "資料夾已建立。"),
    "folder_updated": ("Folder updated.", "文件夹已更新。", "資料夾已更新。"),
    "folder_deleted": ("Folder moved to the trash.", "文件夹已移到回收站。", "資料夾已移至垃圾桶。"),
    "file_updated": ("File updated.", "文件已更新。", "檔案已更新。"),
    "trash": ("Your trash.", "您的回收站。", "您的垃圾桶。"),
    "restored": ("Restored.", "已恢复。", "已還原。"),
    "purged": ("Deleted for good.", "已永久删除。", "已永久刪除。"),
    "trash_emptied": ("The trash was emptied.", "回收站已清空。", "垃圾桶已清空。"),
    "name_taken": ("A folder of this name is already here.", "此处已有同名文件夹。", "此處已有同名資料夾。"),
    "folder_cycle": ("A folder cannot move into itself or below itself.", "文件夹不能移到自身或其子文件夹中。",
                     "資料夾不能移到自身或其子資料夾中。"),
    "folder_too_deep": ("Folders cannot be nested this deep.", "文件夹嵌套层级过深。", "資料夾巢狀層級過深。"),
    "archive_created": ("Archive link created.", "压缩包链接已生成。", "壓縮檔連結已產生。"),
    "archive_too_large": ("Too many files, or folder paths too long, for one archive; choose fewer.",
                          "一个压缩包的文件过多或文件夹路径过长，请少选一些。",
                          "一個壓縮檔的檔案過多或資料夾路徑過長，請少選一些。"),
    # the last resort
    "server_error": ("Something went wrong on the server.", "服务器内部错误。", "伺服器發生錯誤。"),
}


@functools.lru_cache(maxsize=256)  # browsers send the same few headers again and again; bounded against made-up ones
def negotiate_language(accept_language: str) -> str:
    """Pick one of LANGUAGES from an Accept-Language header (RFC 9110 §12.5.4).

    Language ranges are tried by descending quality (``q``), in header order
    among equals; the first ``en`` or ``zh`` range wins. Anything else falls
    back to English.
    """
    ranges = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
            if not 0 <= quality <= 1:
                continue  # RFC 9110 §12.4.2: a qvalue is 0–1; "nan", "inf" or "5" is garbage, not a preference
        ranges.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranges):
        if negative_quality >= 0:
            break  # q=0 means "not acceptable"
        primary, *subtags = tag.split("-")
        if primary == ENGLISH:
            return ENGLISH
        if primary == "zh":
            return chinese_script(subtags)
    return ENGLISH


def chinese_script(subtags: list[str]) -> str:
    """Simplified or Traditional for a ``zh`` tag's subtags (RFC 5646 §2.1: script, then region).

    A script subtag decides (``zh-Hant`` Traditional, ``zh-Hans`` Simplified);
    without one the region does (``zh-TW``, ``zh-HK``, ``zh-MO`` Traditional;
    ``zh``, ``zh-CN``, ``zh-SG`` and the rest Simplified).
    """
    for subtag in subtags:
        if subtag in ("hant", "hans"):
            return TRADITIONAL_CHINESE if subtag == "hant" else SIMPLIFIED_CHINESE
    return TRADITIONAL_CHINESE if TRADITIONAL_REGIONS & set(subtags) else SIMPLIFIED_CHINESE


def message(key: str, language: str, field: str | None = None, **values) -> str:
    """The sentence for ``key`` (refined by ``field`` where one exists) in ``language``.

    ``values`` fill the sentence's ``{placeholders}``, e.g. a configured limit.
    """
    index = LANGUAGES.index(language) if language in LANGUAGES else 0
    general = MESSAGES.get(key) or MESSAGES["server_error"]
    for sentences in filter(None, (MESSAGES.get(f"{key}.{field}"), general)):
        try:
            return sentences[index].format(**values)
        except (KeyError, IndexError):
            continue  # e.g. a missing password has no length limits to show: say the general sentence
    return general[index]
