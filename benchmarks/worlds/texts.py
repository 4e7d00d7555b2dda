"""What people write, per language: ordinary subjects, complaints, conflict, launches,
out-of-office replies, goodbyes and introductions, thanks, task names."""

from __future__ import annotations

SUBJECTS = {
    "en": (
        "Banner sizes for the spring campaign", "Feedback on the new landing page",
        "Newsletter draft", "Photos for the catalogue", "Question about the invoice",
        "Social posts for next week", "Call on Thursday?", "Updated brand guide",
        "Copy for the product page", "Analytics report", "Event poster", "Video cut v2",
    ),
    "uk": (
        "Банери для весняної кампанії", "Відгук на новий лендинг", "Чернетка розсилки",
        "Фото для каталогу", "Питання щодо рахунку", "Пости на наступний тиждень",
        "Дзвінок у четвер?", "Оновлений брендбук", "Тексти для сторінки товару",
        "Звіт з аналітики", "Афіша заходу", "Монтаж відео, версія 2",
    ),
    "ru": (
        "Баннеры для весенней кампании", "Отзыв по новому лендингу", "Черновик рассылки",
        "Фото для каталога", "Вопрос по счёту", "Посты на следующую неделю",
        "Созвон в четверг?", "Обновлённый брендбук", "Тексты для карточки товара",
        "Отчёт по аналитике", "Афиша мероприятия", "Монтаж видео, версия 2",
    ),
}  # fmt: skip
COMPLAINTS = {
    "en": (
        "Deadline missed again", "Still waiting for the banners", "Disappointed with the result",
        "Urgent: the site is still broken", "Why is this late?",
    ),
    "uk": (
        "Знову зірвано терміни", "Досі чекаємо на банери", "Розчаровані результатом",
        "Терміново: сайт досі не працює", "Чому знову затримка?",
    ),
    "ru": (
        "Снова сорваны сроки", "До сих пор ждём баннеры", "Разочарованы результатом",
        "Срочно: сайт всё ещё не работает", "Почему опять задержка?",
    ),
}  # fmt: skip
CONFLICT = {
    "en": "Unacceptable: the campaign launched with errors",
    "uk": "Неприпустимо: кампанію запущено з помилками",
    "ru": "Недопустимо: кампания запущена с ошибками",
}
LAUNCH = {
    "en": "Launch week: final checks",
    "uk": "Тиждень запуску: фінальні перевірки",
    "ru": "Неделя запуска: финальные проверки",
}
OUT_OF_OFFICE = {
    "en": ("Out of office: {subject}", "I am on holiday until {back}. {cover} will help you."),
    "uk": ("Автовідповідь: {subject}", "Я у відпустці до {back}. Вам допоможе {cover}."),
    "ru": ("Автоответ: {subject}", "Я в отпуске до {back}. Вам поможет {cover}."),
}
GOODBYE = {
    "en": ("Moving on", "I am leaving the company this week. {successor} takes over from me."),
    "uk": ("Я йду з компанії", "Цього тижня я йду з компанії. Мої справи приймає {successor}."),
    "ru": (
        "Я ухожу из компании",
        "На этой неделе я ухожу из компании. Дела принимает {successor}.",
    ),
}
BODY = {  # (template, ordinary lines...)
    "en": ("Hi {name},\n\n{line}\n\nBest,\n{sender}", "Please have a look.", "Sounds good."),
    "uk": (
        "Добрий день, {name}!\n\n{line}\n\nЗ повагою,\n{sender}",
        "Подивіться, будь ласка.",
        "Домовились.",
    ),
    "ru": (
        "Добрый день, {name}!\n\n{line}\n\nС уважением,\n{sender}",
        "Посмотрите, пожалуйста.",
        "Договорились.",
    ),
}
ANGRY = {
    "en": ("This is not acceptable.", "We expected much better."),
    "uk": ("Це неприпустимо.", "Ми очікували значно кращого."),
    "ru": ("Это недопустимо.", "Мы ожидали гораздо лучшего."),
}
THANKS = {"en": "Thank you!", "uk": "Дякую!", "ru": "Спасибо!"}
TASKS = {
    "en": (
        "Banner set", "Landing page copy", "Newsletter", "Photo retouch", "Social posts",
        "Monthly report", "Video edit", "Ad campaign setup", "SEO audit", "Print layout",
    ),
    "uk": (
        "Набір банерів", "Тексти лендингу", "Розсилка", "Ретуш фото", "Пости в соцмережі",
        "Місячний звіт", "Монтаж відео", "Налаштування реклами", "SEO-аудит", "Макет для друку",
    ),
    "ru": (
        "Набор баннеров", "Тексты лендинга", "Рассылка", "Ретушь фото", "Посты в соцсети",
        "Месячный отчёт", "Монтаж видео", "Настройка рекламы", "SEO-аудит", "Макет для печати",
    ),
}  # fmt: skip
PROPOSALS = ("video series", "new website", "trade show stand", "SEO package", "rebrand")
