"""Spanish (es): usted throughout; sent transliterated to GSM-7 (``código`` -> ``codigo``)."""

from __future__ import annotations

CODE = "es"
NAME = "Español"
GSM_ONLY = True


def plural(n: int) -> int:
    """0: uno, 1: otros."""
    return 0 if n == 1 else 1


TEXTS: dict[str, str | tuple[str, ...]] = {
    "NOT_AUTHORISED": "Este número no está registrado para reservar turnos. "
    "Pida a su responsable que lo añada.",
    "NOT_A_CODE": "Ese código de turno no es válido. Responda REQUEST para ver los turnos libres.",
    "TOO_MANY_CODES": "Envíe como máximo 10 códigos de turno por mensaje. "
    "Responda REQUEST para ver los turnos libres.",
    "AGENT_CALLING": "Gracias. Un agente le llamará pronto.",
    "AGENT_ALREADY_CALLING": "Un agente ya tiene previsto llamarle. Por favor, espere esa llamada.",
    "AGENT_UNAVAILABLE": "Lo sentimos, aquí no se ofrecen llamadas. "
    "Responda REQUEST para ver los turnos libres.",
    "AGENT_FAILED": "Lo sentimos, ahora no podemos programar la llamada. "
    "Envíe AGENT de nuevo más tarde.",
    "NO_OPEN_SHIFTS": "Ahora no hay turnos libres. Le avisaremos cuando se publiquen nuevos.",
    "NO_MORE_SHIFTS": "No hay más turnos libres. Responda REQUEST para ver la lista de nuevo.",
    "LOOK_FURTHER": "No hay turnos libres en esta parte de la lista. "
    "Responda MORE para seguir buscando.",
    "HOW_TO_LIST": "Responda REQUEST para ver los turnos libres.",
    "BOOKED": "Reservado",
    "ALREADY_YOURS": "Ya es suyo",
    "NO_LONGER_AVAILABLE": "Ya no disponible",
    "NOT_VALID_CODE": "Código no válido",
    "THANK_YOU": "¡Gracias!",
    "RELEASED": "Liberado",
    "STILL_YOURS": "Sigue siendo suyo (reservado de nuevo)",
    "NOT_YOURS": "No reservado por usted",
    "CODES": ("{n} código", "{n} códigos"),
    "MORE_CODES": "+{n} más",
    "OPEN_SHIFTS": "Turnos libres",
    "PAGE_MORE": "{n} más: responda MORE.",
    "BOOK_HINT": "Responda un código para reservar.",
    "HOW_TO_BOOK": "Responda un código para reservar, REQUEST para ver todos, STOP para baja.",
    "HAS_STARTED": "ya ha empezado",
    "NEEDS_ROLE": "requiere {role}",
    "OVERLAPS": "coincide con su turno {held}",
    "REST_AFTER": "deja solo {hours} de descanso tras su turno {held}",
    "REST_BEFORE": "deja solo {hours} de descanso antes de su turno {held}",
    "NO_REST_AFTER": "no deja descanso tras su turno {held}",
    "NO_REST_BEFORE": "no deja descanso antes de su turno {held}",
    "OVER_WEEKLY": "le lleva a {total} en 7 días, máx. {cap}",
    "HELD": "{span} del {day}",
    "MORE_REFUSED": "+{n} más rechazados.",
    "WAIT_HINT_ONE": "Responda WAIT {code} para entrar en su lista de espera.",
    "WAITLIST_OPEN_HINT": "Responda WAIT y un código para entrar en su lista de espera.",
    "TOO_LATE": "Muy cerca del inicio para dejarlo por SMS, llame a la unidad",
    "YES_WHICH": "Responda con el código del turno que desea. "
    "Responda REQUEST para ver los turnos libres.",
    "WAIT_ONE_CODE": "Envíe WAIT y un solo código de turno, por ejemplo WAIT XYZ123.",
    "DROP_WHICH": "Envíe DROP y el código del turno que deja, por ejemplo DROP XYZ123.",
    "WAITLIST_JOINED": "Es el número {position} para {code}. "
    "Le avisaremos si vuelve a quedar libre.",
    "WAITLIST_ALREADY": "Ya es el número {position} para {code}. "
    "Le avisaremos si vuelve a quedar libre.",
    "WAITLIST_FULL": "La lista de espera de {code} está completa. "
    "Responda REQUEST para ver los turnos libres.",
    "WAITLIST_OPEN": "{code} está libre: responda {code} para reservarlo.",
    "WAITLIST_YOURS": "{code} ya es suyo.",
    "HELD_OFFER": "{code} vuelve a estar libre y se lo guardamos hasta las {at}. "
    "Responda YES para quedárselo.",
    "COMMAND_LIST": "REQUEST: turnos libres. Un código: reservar. DROP y código: dejarlo. "
    "MINE: los suyos. SNOOZE o SNOOZE 3: pausar ofertas. RESUME. AGENT: llamada.",
    "NO_BOOKED_SHIFTS": "No tiene próximos turnos reservados. "
    "Responda REQUEST para ver los turnos libres.",
    "NO_MORE_BOOKED": "No hay más turnos reservados. Responda MINE para verlos de nuevo.",
    "BAD_SNOOZE": "Responda SNOOZE para pausar las ofertas 7 días, o SNOOZE y de 1 a 60 días, "
    "p. ej. SNOOZE 3.",
    "RESUMED": "Vuelve a recibir ofertas. Responda SNOOZE para pausarlas de nuevo.",
    "SNOOZED": "Sin ofertas hasta el {when}. Reservas, REQUEST y recordatorios siguen "
    "activos. Responda RESUME para volver a recibir ofertas.",
    "YOUR_SHIFTS": "Sus turnos",
    "REMINDER": "Recordatorio: {shift}. Responda DROP {code} si no puede acudir.",
    "WEEKDAYS": "lun mar mié jue vie sáb dom",
    "WINDOW_INTEREST": "Queda anotado su interés en {codes}. "
    "Le daremos el resultado antes de las {at}.",
    "WINDOW_INTEREST_MANY": (
        "Queda anotado su interés en {n} turno. Le daremos el resultado antes de las {at}.",
        "Queda anotado su interés en {n} turnos. Le daremos el resultado antes de las {at}.",
    ),
    "AWARD_LOST": "{code} se ha asignado a otra persona esta vez. "
    "Responda REQUEST para ver los turnos libres.",
    "BOOKING_CANCELLED": "La unidad ha cancelado su reserva de {shift}. "
    "Responda REQUEST para ver los turnos libres.",
    "SHIFT_CANCELLED": "La unidad ha cancelado el turno {shift}. "
    "Responda REQUEST para ver los turnos libres.",
}
