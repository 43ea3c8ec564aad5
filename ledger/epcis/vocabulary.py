"""The CBV 2.0 and GS1 Web Vocabulary terms that EPCIS 2.0 JSON-LD lets a document write bare.

The EPCIS 2.0 JSON-LD context gives some properties ``"@type": "@vocab"`` with a scoped term
list, so that ``"bizStep": "shipping"`` means ``https://ref.gs1.org/cbv/BizStep-shipping``.
The event hash expands them (and compact IRIs, and the old ``urn:epcglobal:cbv:...`` URNs) to
the same full URI. The word lists are those of the GS1 EPCIS 2.0.0 JSON-LD context
(``epcis-context.jsonld``); a word outside a list stays as written, as JSON-LD leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from ledger.records import BUSINESS_STEP_CODES, DISPOSITION_CODES

__all__ = [
    "CBV",
    "CBV_URN_PREFIXES",
    "GS1_VOC",
    "STANDARD_PREFIXES",
    "VOCAB_TERMS",
]

CBV: Final = "https://ref.gs1.org/cbv/"
GS1_VOC: Final = "https://gs1.org/voc/"

#: Compact-IRI prefixes the EPCIS 2.0 context defines; a document may add its own.
STANDARD_PREFIXES: Final[Mapping[str, str]] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

#: EPCIS 1.x / CBV 1.x URN spellings and their CBV 2.0 web URI prefixes.
CBV_URN_PREFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("urn:epcglobal:cbv:bizstep:", CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", CBV + "ER-"),
)

_BTT = (
    "bol",
    "cert",
    "desadv",
    "inv",
    "pedigree",
    "po",
    "poc",
    "prodorder",
    "recadv",
    "rma",
    "testprd",
    "testres",
    "upevt",
)
_SDT = ("location", "owning_party", "possessing_party")
_ER = ("did_not_occur", "incorrect_data")
_COMPONENTS = (
    "altitude",
    "axial_distance",
    "azimuth",
    "easting",
    "elevation_angle",
    "height",
    "latitude",
    "longitude",
    "northing",
    "polar_angle",
    "spherical_radius",
    "x",
    "y",
    "z",
)
_EXCEPTIONS = ("ALARM_CONDITION", "ERROR_CONDITION")
_MEASUREMENT_TYPES = (
    "AbsoluteHumidity",
    "AbsorbedDose",
    "AbsorbedDoseRate",
    "Acceleration",
    "Altitude",
    "AmountOfSubstance",
    "AmountOfSubstancePerUnitVolume",
    "Angle",
    "AngularAcceleration",
    "AngularMomentum",
    "AngularVelocity",
    "Area",
    "Capacitance",
    "Conductance",
    "Conductivity",
    "Count",
    "Density",
    "Dimensionless",
    "DoseEquivalent",
    "DoseEquivalentRate",
    "DynamicViscosity",
    "ElectricCharge",
    "ElectricCurrent",
    "ElectricCurrentDensity",
    "ElectricFieldStrength",
    "Energy",
    "Exposure",
    "Force",
    "Frequency",
    "Illuminance",
    "Inductance",
    "Irradiance",
    "KinematicViscosity",
    "Length",
    "LinearMomentum",
    "Luminance",
    "LuminousFlux",
    "LuminousIntensity",
    "MagneticFlux",
    "MagneticFluxDensity",
    "MagneticVectorPotential",
    "Mass",
    "MassConcentration",
    "MassFlowRate",
    "MassPerAreaTime",
    "MemoryCapacity",
    "MolalityOfSolute",
    "MolarEnergy",
    "MolarMass",
    "MolarVolume",
    "Power",
    "Pressure",
    "RadiantFlux",
    "RadiantIntensity",
    "Radioactivity",
    "RelativeHumidity",
    "Resistance",
    "Resistivity",
    "SolidAngle",
    "SpecificVolume",
    "Speed",
    "SurfaceDensity",
    "SurfaceTension",
    "Temperature",
    "Time",
    "Torque",
    "Voltage",
    "Volume",
    "VolumeFlowRate",
    "VolumeFraction",
    "VolumetricFlux",
    "Wavenumber",
)


def _terms(words: Iterable[str], base: str) -> Mapping[str, str]:
    return {word: base + word for word in words}


#: For each vocabulary a property uses: bare word -> full URI.
VOCAB_TERMS: Final[Mapping[str, Mapping[str, str]]] = {
    "bizStep": _terms(BUSINESS_STEP_CODES, CBV + "BizStep-"),
    "disposition": _terms(DISPOSITION_CODES, CBV + "Disp-"),
    "bizTransactionType": _terms(_BTT, CBV + "BTT-"),
    "sourceOrDestinationType": _terms(_SDT, CBV + "SDT-"),
    "reason": _terms(_ER, CBV + "ER-"),
    "measurementType": _terms(_MEASUREMENT_TYPES, GS1_VOC),
    "exception": _terms(_EXCEPTIONS, GS1_VOC),
    "component": _terms(_COMPONENTS, CBV + "Comp-"),
}
