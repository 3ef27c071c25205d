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
    "too_many_attempts": ("Too many attempts; try again later.", "尝试次数过多，请稍后再试。", "嘗試次數過多，請稍後再試。"),
    "wrong_old_password": ("The current password is wrong.", "当前密码错误。", "目前的密碼錯誤。"),
    "server_busy": ("The server is busy; try again in a moment.", "服务器繁忙，请稍后再试。", "伺服器忙碌中，請稍後再試。"),
    # tokens
    "token_missing": ("Log in first: this needs a bearer token.", "请先登录：需要 Bearer 令牌。", "請先登入：此操作需要 Bearer 權杖。"),
    "token_invalid": ("The token is not valid.", "令牌无效。", "權杖無效。"),
    "token_expired": ("The token has expired; log in again.", "令牌已过期，请重新登录。", "權杖已過期，請重新登入。"),
    "token_revoked": ("The token was revoked; log in again.", "令牌已被撤销，请重新登录。", "權杖已被撤銷，請重新登入。"),
    # routing
    "not_found": ("Not found.", "未找到。", "找不到。"),
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
