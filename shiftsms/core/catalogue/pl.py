"""Polish (pl): sent transliterated to GSM-7 (``ą`` -> ``a``, ``ł`` -> ``l``, ``ż`` -> ``z``)."""

from __future__ import annotations

CODE = "pl"
NAME = "Polski"
GSM_ONLY = True


def plural(n: int) -> int:
    """0: 1 kod, 1: 2-4 kody (not 12-14), 2: 5 kodów, 0 kodów, 12 kodów."""
    if n == 1:
        return 0
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return 1
    return 2


TEXTS: dict[str, str | tuple[str, ...]] = {
    "NOT_AUTHORISED": "Ten numer nie jest zarejestrowany do rezerwacji zmian. "
    "Poproś kierownika o dodanie go.",
    "NOT_A_CODE": "To nie jest prawidłowy kod zmiany. Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "TOO_MANY_CODES": "Wyślij najwyżej 10 kodów zmian w jednej wiadomości. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "AGENT_CALLING": "Dziękujemy. Konsultant wkrótce oddzwoni.",
    "AGENT_ALREADY_CALLING": "Konsultant już ma do Ciebie oddzwonić. Prosimy zaczekać na telefon.",
    "AGENT_UNAVAILABLE": "Niestety nie oferujemy tu oddzwaniania. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "AGENT_FAILED": "Niestety nie udało się teraz zamówić oddzwonienia. "
    "Wyślij AGENT ponownie później.",
    "NO_OPEN_SHIFTS": "Obecnie nie ma wolnych zmian. Napiszemy, gdy pojawią się nowe.",
    "NO_MORE_SHIFTS": "Nie ma więcej wolnych zmian. Odpisz REQUEST, aby zobaczyć listę od nowa.",
    "LOOK_FURTHER": "Brak wolnych zmian w tej części listy. Odpisz MORE, aby szukać dalej.",
    "HOW_TO_LIST": "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "BOOKED": "Zarezerwowano",
    "ALREADY_YOURS": "Już Twoje",
    "NO_LONGER_AVAILABLE": "Już niedostępne",
    "NOT_VALID_CODE": "Nieprawidłowy kod",
    "THANK_YOU": "Dziękujemy!",
    "RELEASED": "Zwolniono",
    "STILL_YOURS": "Nadal Twoja (zarezerwowano ponownie)",
    "NOT_YOURS": "Nie Twoja rezerwacja",
    "CODES": ("{n} kod", "{n} kody", "{n} kodów"),
    "MORE_CODES": "+{n} więcej",
    "OPEN_SHIFTS": "Wolne zmiany",
    "PAGE_MORE": "Jeszcze {n}: odpisz MORE.",
    "BOOK_HINT": "Odpisz kod, aby zarezerwować.",
    "HOW_TO_BOOK": "Odpisz kod, aby zarezerwować; REQUEST: wszystkie wolne; STOP: wypisanie.",
    "HAS_STARTED": "już się zaczęła",
    "NEEDS_ROLE": "wymaga roli {role}",
    "OVERLAPS": "nakłada się na Twoją zmianę {held}",
    "REST_AFTER": "daje tylko {hours} odpoczynku po Twojej zmianie {held}",
    "REST_BEFORE": "daje tylko {hours} odpoczynku przed Twoją zmianą {held}",
    "NO_REST_AFTER": "nie daje odpoczynku po Twojej zmianie {held}",
    "NO_REST_BEFORE": "nie daje odpoczynku przed Twoją zmianą {held}",
    "OVER_WEEKLY": "da Ci {total} w 7 dni, maks. {cap}",
    "HELD": "{span} dnia {day}",
    "MORE_REFUSED": "+{n} więcej odrzuconych.",
    "WAIT_HINT_ONE": "Odpowiedz WAIT {code}, aby dołączyć do listy oczekujących.",
    "WAITLIST_OPEN_HINT": "Odpowiedz WAIT i kod, aby dołączyć do listy oczekujących.",
    "TOO_LATE": "Za blisko początku, by oddać SMS-em, proszę zadzwonić na oddział",
    "YES_WHICH": "Odpisz kodem zmiany, którą chcesz wziąć. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "WAIT_ONE_CODE": "Wyślij WAIT i jeden kod zmiany, np. WAIT XYZ123.",
    "DROP_WHICH": "Wyślij DROP i kod zmiany, którą oddajesz, np. DROP XYZ123.",
    "WAITLIST_JOINED": "Jesteś nr {position} na liście do {code}. "
    "Napiszemy, jeśli znów się zwolni.",
    "WAITLIST_ALREADY": "Już jesteś nr {position} na liście do {code}. "
    "Napiszemy, jeśli znów się zwolni.",
    "WAITLIST_FULL": "Lista oczekujących na {code} jest pełna. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "WAITLIST_OPEN": "{code} jest wolna: odpisz {code}, aby ją zarezerwować.",
    "WAITLIST_YOURS": "{code} jest już Twoja.",
    "HELD_OFFER": "{code} znów jest wolna i czeka na Ciebie do {at}. Odpisz YES, aby ją wziąć.",
    "COMMAND_LIST": "REQUEST: wolne zmiany. Kod: rezerwacja. DROP i kod: oddanie. "
    "MINE: Twoje zmiany. SNOOZE lub SNOOZE 3: pauza ofert. RESUME. AGENT: telefon.",
    "NO_BOOKED_SHIFTS": "Nie masz nadchodzących zarezerwowanych zmian. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "NO_MORE_BOOKED": "Nie ma więcej zarezerwowanych zmian. Odpisz MINE, aby zobaczyć je znowu.",
    "BAD_SNOOZE": "Odpisz SNOOZE, aby wstrzymać oferty na 7 dni, lub SNOOZE i 1-60 dni, "
    "np. SNOOZE 3.",
    "RESUMED": "Oferty znów włączone. Odpisz SNOOZE, aby je ponownie wstrzymać.",
    "SNOOZED": "Bez ofert do {when}. Rezerwacje, REQUEST i przypomnienia nadal działają. "
    "Odpisz RESUME, aby znów dostawać oferty.",
    "YOUR_SHIFTS": "Twoje zmiany",
    "REMINDER": "Przypomnienie: {shift}. Odpisz DROP {code}, jeśli nie możesz przyjść.",
    "WEEKDAYS": "pon. wt. śr. czw. pt. sob. niedz.",
    "WINDOW_INTEREST": "Przyjęto Twoje zgłoszenie: {codes}. Wynik napiszemy do {at}.",
    "WINDOW_INTEREST_MANY": (
        "Przyjęto Twoje zgłoszenie: {n} zmiana. Wynik napiszemy do {at}.",
        "Przyjęto Twoje zgłoszenie: {n} zmiany. Wynik napiszemy do {at}.",
        "Przyjęto Twoje zgłoszenie: {n} zmian. Wynik napiszemy do {at}.",
    ),
    "AWARD_LOST": "{code} tym razem trafiła do kogoś innego. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "BOOKING_CANCELLED": "Oddział odwołał Twoją rezerwację {shift}. "
    "Odpisz REQUEST, aby zobaczyć wolne zmiany.",
    "SHIFT_CANCELLED": "Oddział odwołał zmianę {shift}. Odpisz REQUEST, aby zobaczyć wolne zmiany.",
}
