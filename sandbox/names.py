"""Person-name pools for the simulator, per language, in native script with a Latin form.

The Latin form builds email local parts (`olena.shevchenko@...`); `person_from_address`
goes the other way, so addresses written in the config resolve to native-script names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (latin, native, gender)
FIRST_NAMES: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("James", "James", "m"),
        ("Emily", "Emily", "f"),
        ("Michael", "Michael", "m"),
        ("Sarah", "Sarah", "f"),
        ("David", "David", "m"),
        ("Jessica", "Jessica", "f"),
        ("Daniel", "Daniel", "m"),
        ("Laura", "Laura", "f"),
        ("Robert", "Robert", "m"),
        ("Hannah", "Hannah", "f"),
        ("Thomas", "Thomas", "m"),
        ("Olivia", "Olivia", "f"),
        ("Andrew", "Andrew", "m"),
        ("Rachel", "Rachel", "f"),
        ("Matthew", "Matthew", "m"),
        ("Sophie", "Sophie", "f"),
        ("Ryan", "Ryan", "m"),
        ("Grace", "Grace", "f"),
    ],
    "uk": [
        ("Olena", "Олена", "f"),
        ("Oksana", "Оксана", "f"),
        ("Iryna", "Ірина", "f"),
        ("Nataliia", "Наталія", "f"),
        ("Yuliia", "Юлія", "f"),
        ("Kateryna", "Катерина", "f"),
        ("Tetiana", "Тетяна", "f"),
        ("Sofiia", "Софія", "f"),
        ("Andrii", "Андрій", "m"),
        ("Oleksandr", "Олександр", "m"),
        ("Dmytro", "Дмитро", "m"),
        ("Serhii", "Сергій", "m"),
        ("Taras", "Тарас", "m"),
        ("Bohdan", "Богдан", "m"),
        ("Yurii", "Юрій", "m"),
        ("Mykola", "Микола", "m"),
        ("Ihor", "Ігор", "m"),
        ("Vasyl", "Василь", "m"),
    ],
    "ru": [
        ("Olga", "Ольга", "f"),
        ("Tatiana", "Татьяна", "f"),
        ("Elena", "Елена", "f"),
        ("Natalia", "Наталья", "f"),
        ("Irina", "Ирина", "f"),
        ("Anastasia", "Анастасия", "f"),
        ("Svetlana", "Светлана", "f"),
        ("Marina", "Марина", "f"),
        ("Alexey", "Алексей", "m"),
        ("Sergey", "Сергей", "m"),
        ("Dmitry", "Дмитрий", "m"),
        ("Andrey", "Андрей", "m"),
        ("Pavel", "Павел", "m"),
        ("Maxim", "Максим", "m"),
        ("Igor", "Игорь", "m"),
        ("Vladimir", "Владимир", "m"),
        ("Nikolay", "Николай", "m"),
        ("Artem", "Артём", "m"),
    ],
}

# (latin male, native male, latin female, native female)
LAST_NAMES: dict[str, list[tuple[str, str, str, str]]] = {
    "en": [
        (n, n, n, n)
        for n in (
            "Smith",
            "Walker",
            "Harris",
            "Clarke",
            "Turner",
            "Bennett",
            "Mitchell",
            "Reed",
            "Foster",
            "Hughes",
            "Palmer",
            "Brooks",
            "Morgan",
            "Ellis",
            "Fletcher",
            "Hayes",
        )
    ],
    "uk": [
        ("Shevchenko", "Шевченко", "Shevchenko", "Шевченко"),
        ("Kovalenko", "Коваленко", "Kovalenko", "Коваленко"),
        ("Bondarenko", "Бондаренко", "Bondarenko", "Бондаренко"),
        ("Tkachenko", "Ткаченко", "Tkachenko", "Ткаченко"),
        ("Kravchenko", "Кравченко", "Kravchenko", "Кравченко"),
        ("Melnyk", "Мельник", "Melnyk", "Мельник"),
        ("Boiko", "Бойко", "Boiko", "Бойко"),
        ("Savchuk", "Савчук", "Savchuk", "Савчук"),
        ("Moroz", "Мороз", "Moroz", "Мороз"),
        ("Lysenko", "Лисенко", "Lysenko", "Лисенко"),
        ("Marchenko", "Марченко", "Marchenko", "Марченко"),
        ("Polishchuk", "Поліщук", "Polishchuk", "Поліщук"),
        ("Rudenko", "Руденко", "Rudenko", "Руденко"),
        ("Petrenko", "Петренко", "Petrenko", "Петренко"),
        ("Kovalskyi", "Ковальський", "Kovalska", "Ковальська"),
        ("Zhuravskyi", "Журавський", "Zhuravska", "Журавська"),
    ],
    "ru": [
        (f"{m}", n, f"{m}a", f"{n}а")
        for m, n in (
            ("Smirnov", "Смирнов"),
            ("Ivanov", "Иванов"),
            ("Kuznetsov", "Кузнецов"),
            ("Popov", "Попов"),
            ("Sokolov", "Соколов"),
            ("Lebedev", "Лебедев"),
            ("Kozlov", "Козлов"),
            ("Novikov", "Новиков"),
            ("Morozov", "Морозов"),
            ("Volkov", "Волков"),
            ("Orlov", "Орлов"),
            ("Zaitsev", "Зайцев"),
            ("Belov", "Белов"),
            ("Frolov", "Фролов"),
            ("Gusev", "Гусев"),
        )
    ],
}


@dataclass(frozen=True)
class PersonName:
    first: str  # native script
    last: str
    first_latin: str
    last_latin: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}".strip()

    @property
    def local_part(self) -> str:
        return f"{self.first_latin}.{self.last_latin}".lower()


def random_name(rng: random.Random, language: str) -> PersonName:
    first_latin, first, gender = rng.choice(FIRST_NAMES[language])
    male_latin, male, female_latin, female = rng.choice(LAST_NAMES[language])
    if gender == "f":
        return PersonName(first, female, first_latin, female_latin)
    return PersonName(first, male, first_latin, male_latin)


def _latin_index() -> tuple[dict[str, str], dict[str, str]]:
    firsts: dict[str, str] = {}
    lasts: dict[str, str] = {}
    for language in ("en", "ru", "uk"):  # later languages win, so shared spellings read as uk
        for latin, native, _ in FIRST_NAMES[language]:
            firsts[latin.lower()] = native
        for male_latin, male, female_latin, female in LAST_NAMES[language]:
            lasts[male_latin.lower()] = male
            lasts[female_latin.lower()] = female
    return firsts, lasts


_FIRST_BY_LATIN, _LAST_BY_LATIN = _latin_index()


def person_from_address(address: str) -> PersonName:
    """Guess a person's name from `first.last@...`; unknown spellings stay in title-case Latin."""
    local = address.split("@", 1)[0]
    first_latin, _, last_latin = local.partition(".")
    first_latin, last_latin = first_latin.title(), last_latin.title()
    return PersonName(
        first=_FIRST_BY_LATIN.get(first_latin.lower(), first_latin),
        last=_LAST_BY_LATIN.get(last_latin.lower(), last_latin),
        first_latin=first_latin,
        last_latin=last_latin,
    )
