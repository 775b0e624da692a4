"""The twelve default themes and Almaty's eight districts exist after `migrate`."""

from django.db import migrations

THEMES = [
    ("ecology", "Экология", "Экология", "Ecology",
     "Воздух, вода, зелёные зоны, отходы.", "Ауа, су, жасыл аймақтар, қалдықтар.",
     "Air, water, green spaces, waste."),
    ("transport", "Транспорт", "Көлік", "Transport",
     "Общественный транспорт, дороги, пробки, велодорожки.",
     "Қоғамдық көлік, жолдар, кептелістер, веложолдар.",
     "Public transport, roads, congestion, cycling."),
    ("safety", "Безопасность", "Қауіпсіздік", "Safety",
     "Общественная безопасность, сейсмика, сели, освещение.",
     "Қоғамдық қауіпсіздік, сейсмика, сел, жарықтандыру.",
     "Public safety, earthquakes, mudflows, lighting."),
    ("urban_planning", "Градостроительство", "Қала құрылысы", "Urban planning",
     "Застройка, общественные пространства, предгорья.",
     "Құрылыс, қоғамдық кеңістіктер, тау бөктері.",
     "Building, public spaces, the foothills."),
    ("housing_utilities", "ЖКХ", "ТКШ", "Housing and utilities",
     "Жильё, отопление, водоснабжение, дворы.",
     "Тұрғын үй, жылу, сумен жабдықтау, аулалар.",
     "Housing, heating, water supply, courtyards."),
    ("economy_jobs", "Экономика и занятость", "Экономика және жұмыспен қамту",
     "Economy and jobs", "Бизнес, рабочие места, туризм.",
     "Бизнес, жұмыс орындары, туризм.", "Business, jobs, tourism."),
    ("education", "Образование", "Білім беру", "Education",
     "Школы, детские сады, университеты.", "Мектептер, балабақшалар, университеттер.",
     "Schools, kindergartens, universities."),
    ("health", "Здравоохранение", "Денсаулық сақтау", "Health",
     "Поликлиники, больницы, спорт.", "Емханалар, ауруханалар, спорт.",
     "Clinics, hospitals, sport."),
    ("culture", "Культура", "Мәдениет", "Culture",
     "Музеи, театры, наследие, события.", "Мұражайлар, театрлар, мұра, іс-шаралар.",
     "Museums, theatres, heritage, events."),
    ("social", "Социальная защита", "Әлеуметтік қорғау", "Social protection",
     "Поддержка уязвимых групп, доступная среда.",
     "Осал топтарды қолдау, қолжетімді орта.",
     "Support for vulnerable groups, accessibility."),
    ("digital", "Цифровой город", "Цифрлық қала", "Digital city",
     "Электронные услуги, открытые данные, связь.",
     "Электрондық қызметтер, ашық деректер, байланыс.",
     "E-services, open data, connectivity."),
    ("governance", "Управление", "Басқару", "Governance",
     "Акимат, участие жителей, прозрачность.", "Әкімдік, тұрғындардың қатысуы, ашықтық.",
     "The akimat, participation, transparency."),
]

DISTRICTS = [
    ("alatau", "Алатауский", "Алатау", "Alatau"),
    ("almaly", "Алмалинский", "Алмалы", "Almaly"),
    ("auezov", "Ауэзовский", "Әуезов", "Auezov"),
    ("bostandyk", "Бостандыкский", "Бостандық", "Bostandyk"),
    ("zhetysu", "Жетысуский", "Жетісу", "Zhetysu"),
    ("medeu", "Медеуский", "Медеу", "Medeu"),
    ("nauryzbay", "Наурызбайский", "Наурызбай", "Nauryzbay"),
    ("turksib", "Турксибский", "Түрксіб", "Turksib"),
]


def create_defaults(apps, schema_editor):
    Theme = apps.get_model("strategy", "Theme")
    District = apps.get_model("strategy", "District")
    for position, (slug, ru, kk, en, dru, dkk, den) in enumerate(THEMES):
        Theme.objects.update_or_create(
            slug=slug,
            defaults=dict(position=position, name_ru=ru, name_kk=kk, name_en=en,
                          description_ru=dru, description_kk=dkk, description_en=den),
        )
    for position, (slug, ru, kk, en) in enumerate(DISTRICTS):
        District.objects.update_or_create(
            slug=slug, defaults=dict(position=position, name_ru=ru, name_kk=kk, name_en=en)
        )


class Migration(migrations.Migration):
    dependencies = [("strategy", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
