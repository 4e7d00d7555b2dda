"""Wording for simulated mail and tasks, per language (en / uk / ru)."""

from __future__ import annotations

import random

MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "uk": [
        "січень",
        "лютий",
        "березень",
        "квітень",
        "травень",
        "червень",
        "липень",
        "серпень",
        "вересень",
        "жовтень",
        "листопад",
        "грудень",
    ],
    "ru": [
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ],
}

ITEMS = {
    "en": [
        "newsletter template",
        "social media calendar",
        "landing page",
        "banner set",
        "press release",
        "case study",
        "product page copy",
        "brand guidelines",
    ],
    "uk": [
        "шаблон розсилки",
        "контент-план для соцмереж",
        "лендінг",
        "набір банерів",
        "прес-реліз",
        "кейс",
        "тексти для сторінки товару",
        "брендбук",
    ],
    "ru": [
        "шаблон рассылки",
        "контент-план для соцсетей",
        "лендинг",
        "набор баннеров",
        "пресс-релиз",
        "кейс",
        "тексты для страницы товара",
        "брендбук",
    ],
}

CLIENT_SUBJECTS = {
    "en": [
        "Homepage banner: new copy",
        "Question about the {month} invoice",
        "Feedback on the {item}",
        "Can we move Thursday's call?",
        "Landing page for the spring campaign",
        "Access to Google Analytics",
        "Updated price list for the website",
        "Urgent: typo on the product page",
        "Brief for the {month} campaign",
        "Photos for the blog post",
        "Comments on the {item} from our board of directors before the launch next week",
    ],
    "uk": [
        "Правки до банера на головній",
        "Питання щодо рахунку за {month}",
        "Відгук на {item}",
        "Чи можемо перенести дзвінок у четвер?",
        "Лендінг для весняної кампанії",
        "Доступ до Google Analytics",
        "Оновлений прайс для сайту",
        "Терміново: помилка на сторінці товару",
        "Бриф на кампанію, {month}",
        "Фото для статті в блог",
        "Коментарі правління щодо матеріалу «{item}» перед запуском наступного тижня",
    ],
    "ru": [
        "Правки к баннеру на главной",
        "Вопрос по счёту за {month}",
        "Отзыв на {item}",
        "Можем перенести созвон на четверг?",
        "Лендинг для весенней кампании",
        "Доступ к Google Analytics",
        "Обновлённый прайс для сайта",
        "Срочно: опечатка на странице товара",
        "Бриф на кампанию, {month}",
        "Фото для статьи в блог",
        "Комментарии правления по материалу «{item}» перед запуском на следующей неделе",
    ],
}

AGENCY_SUBJECTS = {
    "en": [
        "Draft for approval: {item}",
        "Next steps after our call",
        "Proposal: {item}",
        "Timeline update: {item}",
        "Results for {month}",
    ],
    "uk": [
        "Чернетка на погодження: {item}",
        "Наступні кроки після дзвінка",
        "Пропозиція: {item}",
        "Оновлення термінів: {item}",
        "Результати за {month}",
    ],
    "ru": [
        "Черновик на согласование: {item}",
        "Следующие шаги после созвона",
        "Предложение: {item}",
        "Обновление сроков: {item}",
        "Результаты за {month}",
    ],
}

TEAM_SUBJECTS = {
    "en": [
        "Weekly status: {client}",
        "Monthly report for {month}: {client}",
        "Invoice #{number} for {month}",
    ],
    "uk": [
        "Щотижневий статус: {client}",
        "Звіт за {month}: {client}",
        "Рахунок №{number} за {month}",
    ],
    "ru": [
        "Еженедельный статус: {client}",
        "Отчёт за {month}: {client}",
        "Счёт №{number} за {month}",
    ],
}

INTERNAL_SUBJECTS = [
    "{client}: план на тиждень",
    "{client}: ризики по термінах",
    "Внутрішнє: рахунок для {client}",
    "{client}: хто підхопить задачі?",
]

GREETING = {"en": "Hi {name},", "uk": "Добрий день, {name}!", "ru": "Здравствуйте, {name}!"}
GREETING_TEAM = {"en": "Hi team,", "uk": "Добрий день!", "ru": "Добрый день!"}

CLIENT_LINES = {
    "en": [
        "Could you take a look at this today?",
        "Please find our comments below.",
        "We need this before the end of the week.",
        "Let us know what you think.",
    ],
    "uk": [
        "Подивіться, будь ласка, сьогодні.",
        "Наші коментарі нижче.",
        "Потрібно до кінця тижня.",
        "Дайте знати, що думаєте.",
    ],
    "ru": [
        "Посмотрите, пожалуйста, сегодня.",
        "Наши комментарии ниже.",
        "Нужно до конца недели.",
        "Дайте знать, что думаете.",
    ],
}

AGENCY_LINES = {
    "en": [
        "From our side the draft is ready for your review.",
        "We will send it by Friday.",
        "Attached is the updated version.",
        "Noted, we are on it and will confirm by tomorrow.",
    ],
    "uk": [
        "З нашого боку чернетка готова до перегляду.",
        "Надішлемо до п'ятниці.",
        "Додаємо оновлену версію.",
        "Прийняли в роботу, підтвердимо завтра.",
    ],
    "ru": [
        "С нашей стороны черновик готов к просмотру.",
        "Пришлём до пятницы.",
        "Прикладываем обновлённую версию.",
        "Приняли в работу, подтвердим завтра.",
    ],
}

THANKS = {
    "en": ["Thanks, got it", "Thank you!", "Thanks!", "Great, thanks."],
    "uk": ["Дякую!", "Дякую, отримали.", "Супер, дякую!"],
    "ru": ["Спасибо!", "Спасибо, получили.", "Отлично, спасибо!"],
}

OUT_OF_OFFICE = {
    "en": (
        "Out of office: {subject}",
        "I am out of the office until {date} with limited access to email.",
    ),
    "uk": ("Автовідповідь: {subject}", "Я у відпустці до {date}, пошту читаю нечасто."),
    "ru": ("Автоответ: {subject}", "Я в отпуске до {date}, почту читаю нечасто."),
}

AGENCY_AUTO_REPLY = (
    "Дякуємо за лист! Сьогодні в нас вихідний, відповімо в наступний робочий день. / "
    "Thank you for your email! We are out of the office today and will reply next business day."
)

SIGN_OFF = {"en": "Best regards,", "uk": "З повагою,", "ru": "С уважением,"}

QUOTE_INTRO = {
    "en": "On {date}, {name} wrote:",
    "uk": "{date} {name} пише:",
    "ru": "{date} {name} написал(а):",
}

PROJECT_KINDS = {
    "en": ["Website redesign", "SEO retainer", "Social media", "Brand identity", "Paid ads"],
    "uk": ["Редизайн сайту", "SEO-супровід", "SMM", "Айдентика", "Контекстна реклама"],
    "ru": ["Редизайн сайта", "SEO-продвижение", "SMM", "Айдентика", "Контекстная реклама"],
}
PITCH_PROJECT = {
    "en": "Pitch and proposal",
    "uk": "Пітч і комерційна пропозиція",
    "ru": "Питч и коммерческое предложение",
}

TASKS = {
    "en": [
        "Design homepage hero banner",
        "Write copy for the {month} newsletter",
        "Set up conversion tracking",
        "Social media calendar for {month}",
        "Landing page: {item}",
        "Fix mobile layout on product pages",
        "Monthly SEO audit",
        "Monthly report for {month}",
        "Photo shoot brief",
        "Banner set for {month}",
        "Update price list on the website",
        "Prepare {item} for approval",
    ],
    "uk": [
        "Дизайн банера для головної",
        "Тексти для розсилки, {month}",
        "Налаштувати відстеження конверсій",
        "Контент-план на {month}",
        "Лендінг: {item}",
        "Виправити мобільну верстку сторінок товарів",
        "Щомісячний SEO-аудит",
        "Звіт за {month}",
        "Бриф на фотозйомку",
        "Банери, {month}",
        "Оновити прайс на сайті",
        "Підготувати {item} на погодження",
    ],
    "ru": [
        "Дизайн баннера для главной",
        "Тексты для рассылки, {month}",
        "Настроить отслеживание конверсий",
        "Контент-план на {month}",
        "Лендинг: {item}",
        "Исправить мобильную вёрстку страниц товаров",
        "Ежемесячный SEO-аудит",
        "Отчёт за {month}",
        "Бриф на фотосъёмку",
        "Баннеры, {month}",
        "Обновить прайс на сайте",
        "Подготовить {item} на согласование",
    ],
}
SUBTASKS = {
    "en": ["Draft", "Internal review", "Client approval", "Publish"],
    "uk": ["Чернетка", "Внутрішня перевірка", "Погодження з клієнтом", "Публікація"],
    "ru": ["Черновик", "Внутренняя проверка", "Согласование с клиентом", "Публикация"],
}
TASK_COMMENTS = {
    "en": [
        "Sent to the client for approval.",
        "Waiting for the texts from the client.",
        "Done, please check.",
        "Client asked for one more round of changes.",
    ],
    "uk": [
        "Надіслали клієнту на погодження.",
        "Чекаємо тексти від клієнта.",
        "Готово, перевірте, будь ласка.",
        "Клієнт попросив ще одне коло правок.",
    ],
    "ru": [
        "Отправили клиенту на согласование.",
        "Ждём тексты от клиента.",
        "Готово, проверьте, пожалуйста.",
        "Клиент попросил ещё один круг правок.",
    ],
}


def fill(rng: random.Random, template: str, language: str, month: int, **extra: str) -> str:
    """Fill the `{month}` / `{item}` / `{number}` slots a template uses."""
    return template.format(
        month=MONTHS[language][month - 1],
        item=rng.choice(ITEMS[language]),
        number=str(rng.randint(1000, 9999)),
        **extra,
    )


# Why a task waits in the backlog (the "Status reason" custom field).
NOT_STARTED_REASONS = {
    "en": [
        "Waiting for the client's brand assets.",
        "Starts after the current release.",
        "On hold until the budget is approved.",
    ],
    "uk": [
        "Чекаємо брендові матеріали від клієнта.",
        "Почнемо після поточного релізу.",
        "Призупинено до затвердження бюджету.",
    ],
    "ru": [
        "Ждём брендовые материалы от клиента.",
        "Начнём после текущего релиза.",
        "Приостановлено до утверждения бюджета.",
    ],
}
# Why a task was dropped (the "Status reason" custom field of a cancelled task).
CANCEL_REASONS = {
    "en": ["The client changed priorities.", "Replaced by a newer brief."],
    "uk": ["Клієнт змінив пріоритети.", "Замінено новим брифом."],
    "ru": ["Клиент сменил приоритеты.", "Заменено новым брифом."],
}
# Why a task is needed (the "Why needed" custom field).
JUSTIFICATIONS = {
    "en": [
        "Needed for the campaign launch.",
        "Requested by the client at the weekly call.",
        "Fixes a problem found in the last report.",
    ],
    "uk": [
        "Потрібно для запуску кампанії.",
        "Клієнт попросив на щотижневому дзвінку.",
        "Виправляє проблему з минулого звіту.",
    ],
    "ru": [
        "Нужно для запуска кампании.",
        "Клиент попросил на еженедельном созвоне.",
        "Исправляет проблему из прошлого отчёта.",
    ],
}
