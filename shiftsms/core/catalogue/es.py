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
    "TOO_LATE": "Demasiado cerca del inicio para dejarlo por SMS, llame a la unidad",
}
