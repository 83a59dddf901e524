"""Custom CloudWatch metrics: the names the functions emit and the template's alarms read.

Emitted with Powertools Metrics (embedded metric format) in namespace :data:`NAMESPACE`
with the one dimension ``service`` = :data:`SERVICE` (Powertools adds it from
``POWERTOOLS_SERVICE_NAME``). ``DeliveryFailureRateAlarm`` and the dashboard read
:data:`TEXTS_DELIVERED` and :data:`TEXTS_FAILED`: the delivery function adds 1 to one of them
for each text's first final status (delivered or successful: delivered; any other final
status: failed), never twice for one text.
"""

from __future__ import annotations

NAMESPACE = "shiftsms"
SERVICE = "shiftsms"
TEXTS_SENT = "TextsSent"
TEXTS_DELIVERED = "TextsDelivered"
TEXTS_FAILED = "TextsFailed"
# Shifts booked by SMS (inbound), recipients a campaign was offered to (fan-out), and the
# SMS segments (parts) of each text sent. TEXTS_SENT and SEGMENTS count every text any function
# sends (sender, inbound, due), in one place: ``shiftsms.services.metered_sms.MeteredSms``.
BOOKED = "Booked"
OFFERED = "Offered"
SEGMENTS = "Segments"
