"""Quick start: load the bundled 2024 baseline and look at US-China trade.

Run: python examples/quickstart.py
"""

import tradesim
import tradesim.codes

base = tradesim.load_baseline("demo-2024")
print(base)
print(f"US imports from China: {base.trade('CHN', 'USA') / 1e9:.1f} bn USD")
print(f"US exports to China:   {base.trade('USA', 'CHN') / 1e9:.1f} bn USD")

# The five largest HS sections of US imports from China, in USD bn.
sections = base.aggregate(products="section")
k = sections.country_index
top = sorted(zip(sections.flows[:, k("CHN"), k("USA")], sections.products), reverse=True)[:5]
for value, section in top:
    print(f"  section {section:<5} {tradesim.codes.SECTIONS[section][0]:<45} {value / 1e9:6.1f}")
