"""Names for the demo county: Kent's twelve districts and its county electoral divisions
(names as they stood before the 2025 boundary review; codes are our own slugs)."""

from __future__ import annotations

COUNTY = ("E10000016", "Kent County Council")

DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "E07000105": ("Ashford", ("Ashford Central", "Ashford East", "Ashford Rural East", "Ashford Rural South",
                              "Ashford Rural West", "Ashford South", "Tenterden")),
    "E07000106": ("Canterbury", ("Canterbury City North", "Canterbury City South", "Canterbury North",
                                 "Canterbury South", "Herne Village and Sturry", "Herne Bay East",
                                 "Herne Bay West", "Whitstable East and Herne Bay Broomfield", "Whitstable West")),
    "E07000107": ("Dartford", ("Dartford East", "Dartford North East", "Dartford Rural", "Dartford West",
                               "Swanscombe and Greenhithe", "Wilmington")),
    "E07000108": ("Dover", ("Deal and Walmer", "Dover North", "Dover Town", "Dover West", "Sandwich")),
    "E07000109": ("Gravesham", ("Gravesend East", "Gravesham East", "Gravesham Rural",
                                "Northfleet and Gravesend West")),
    "E07000110": ("Maidstone", ("Maidstone Central", "Maidstone North East", "Maidstone Rural East",
                                "Maidstone Rural North", "Maidstone Rural South", "Maidstone Rural West",
                                "Maidstone South", "Maidstone South East")),
    "E07000111": ("Sevenoaks", ("Sevenoaks East", "Sevenoaks North and Darent Valley", "Sevenoaks Rural North East",
                                "Sevenoaks Rural South", "Sevenoaks Town", "Sevenoaks West", "Swanley")),
    "E07000112": ("Folkestone and Hythe", ("Cheriton, Sandgate and Hythe East", "Elham Valley", "Folkestone East",
                                           "Folkestone West", "Hythe West", "Romney Marsh")),
    "E07000113": ("Swale", ("Faversham", "Sheerness", "Sheppey", "Sittingbourne North", "Sittingbourne South",
                            "Swale East", "Swale West")),
    "E07000114": ("Thanet", ("Birchington and Rural", "Broadstairs", "Cliftonville", "Margate", "Ramsgate",
                             "Westgate")),
    "E07000115": ("Tonbridge and Malling", ("Malling Central", "Malling North", "Malling North East",
                                            "Malling Rural East", "Malling West", "Tonbridge")),
    "E07000116": ("Tunbridge Wells", ("Cranbrook", "Tunbridge Wells East", "Tunbridge Wells North",
                                      "Tunbridge Wells Rural", "Tunbridge Wells South", "Tunbridge Wells West")),
}

FIRST_NAMES = ("Alan", "Alison", "Andrew", "Anne", "Barry", "Beverley", "Brian", "Carol", "Charlotte", "Clair",
               "David", "Deborah", "Derek", "Diane", "Eric", "Fiona", "Gary", "Georgina", "Harry", "Helen", "Ian",
               "Jackie", "James", "Jenny", "John", "Karen", "Kevin", "Linda", "Mark", "Margaret", "Mike", "Nicola",
               "Oliver", "Paul", "Penny", "Peter", "Rachel", "Richard", "Rosalind", "Sarah", "Shane", "Simon",
               "Susan", "Tom", "Trudy", "Wendy")
SURNAMES = ("Ashworth", "Baldock", "Barrington", "Binks", "Brady", "Chandler", "Cole", "Cooke", "Dance", "Dixon",
            "Fairhurst", "Gibbens", "Hills", "Hook", "Jeffrey", "Kennedy", "Lehmann", "Love", "Maxwell", "Meade",
            "Murphy", "Ozog", "Perkins", "Prentice", "Rayner", "Richardson", "Ridgers", "Sandhu", "Sole", "Streatfeild",
            "Thomas", "Wallis", "Webb", "Whybrow", "Wright")
STREETS = ("Ashford Road", "Canterbury Road", "Church Lane", "Station Road", "London Road", "Maidstone Road",
           "Mill Lane", "Hythe Road", "Dover Road", "Tonbridge Road", "Marsh Lane", "Manor Farm", "Court Lodge Farm",
           "Orchard Way", "Hop Garden", "Oast Lane", "Chequers Lane", "Forstal Road", "Brook Street", "High Street")
DEVELOPERS = ("Persimmon Homes South East", "Taylor Wimpey South East", "Bellway Homes (Kent)", "Barratt Homes Kent",
              "Redrow Homes", "Countryside Partnerships", "Quinn Estates", "Chartway Group", "Esquire Developments",
              "Clarion Housing", "Hillreed Homes", "Fernham Homes", "Wards Homes", "Dandara South East")

_PREFIXES = ("Ash", "Bar", "Brad", "Chel", "Dun", "Eller", "Fair", "Gold", "Hart", "King", "Lang", "Mar", "Nor",
             "Oak", "Pen", "Rad", "Stan", "Thorn", "Wal", "Whit")
_SUFFIXES = ("ford", "ley", "ton", "bury", "field", "ham", "wick", "stead", "bridge", "minster", "worth", "by",
             "combe", "hurst", "mouth")
_QUARTERS = ("North", "South", "East", "West", "Central")
#: Districts that call themselves borough councils (the rest are district councils).
_BOROUGHS = {"Ashford", "Canterbury", "Dartford", "Gravesham", "Maidstone", "Swale", "Tonbridge and Malling",
             "Tunbridge Wells"}


def districts(count: int) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Kent's twelve districts, then invented towns (not real places) up to ``count``."""
    found = dict(list(DISTRICTS.items())[:count])
    taken = {name for name, _ in DISTRICTS.values()}
    names = (f"{p}{s}" for p in _PREFIXES for s in _SUFFIXES if f"{p}{s}" not in taken)
    for number, name in zip(range(len(found), count), names, strict=False):
        found[f"E07{900 + number:06d}"] = (name, tuple(f"{name} {q}" for q in _QUARTERS))
    return found


def council_name(town: str) -> str:
    return f"{town} {'Borough' if town in _BOROUGHS else 'District'} Council"
