"""The wording of the serving quality tables: the stewards' Indonesian (stewards.texts), given to the publisher."""

from stewards import texts
from warehouse.publish import QualityLabels


def steward_labels() -> QualityLabels:
    return QualityLabels(reason=texts.reason_label, rejection=texts.rejection, check=texts.check_meaning)
