"""The starting vocabulary of each theme, in Russian, Kazakh and English.

Words residents use for each theme, in their dictionary form; the suggester stems them.
Written for the suggester and kept apart from the evaluation texts in eval/, which were
written separately and never consulted here. Weight 1 unless a word is nearly proof of
its theme (2).
"""

VOCABULARY: dict[str, dict[str, str]] = {
    "ecology": {
        "ru": "экология экологический воздух смог загрязнение выброс дерево деревья озеленение "
        "зелень газон сквер лес природа река арык водоем мусор свалка отходы переработка "
        "сортировка пластик уголь угольный отопление_углем выхлоп пыль климат парк_природный "
        "вырубка ТЭЦ",
        "kk": "экология ауа түтін ластану қалдық қоқыс ағаш көгалдандыру көк өзен арық табиғат "
        "орман шаң көмір полигон қайта_өңдеу пластик тазалық жасыл саябақ",
        "en": "ecology environment air smog pollution emission tree trees green greenery lawn "
        "forest nature river waste garbage trash landfill recycling recycle plastic coal "
        "exhaust dust climate clean",
    },
    "transport": {
        "ru": "транспорт автобус троллейбус маршрутка маршрут метро остановка дорога трасса "
        "пробка пробки светофор парковка парковать водитель машина автомобиль такси "
        "велодорожка велосипед самокат интервал проезд шоссе развязка LRT БРТ трамвай "
        "перекресток полоса асфальт яма ремонт_дорог",
        "kk": "көлік автобус троллейбус маршрут метро аялдама жол жөндеу кептеліс бағдаршам тұрақ "
        "жүргізуші көше велосипед такси қиылыс асфальт шұңқыр жүру аялдамасы жолаушы",
        "en": "transport transit bus buses trolleybus marshrutka route metro subway stop road "
        "traffic jam light parking park_car driver car taxi bike bicycle lane scooter repair "
        "interval commute highway intersection asphalt pothole tram BRT",
    },
    "safety": {
        "ru": "безопасность опасно опасный преступность кража грабеж полиция патруль камера "
        "видеонаблюдение освещение_улиц темно фонарь собаки бездомные_собаки хулиган "
        "пешеходный_переход авария землетрясение ЧС эвакуация пожар драка наркотики",
        "kk": "қауіпсіздік қауіпті қылмыс ұрлық полиция патруль камера бейнебақылау жарық "
        "шам қараңғы ит төбелес жер_сілкінісі төтенше өрт апат есірткі",
        "en": "safety safe unsafe danger dangerous crime theft robbery police patrol camera "
        "cctv lighting dark streetlight dogs stray fight accident earthquake emergency "
        "evacuation fire drugs",
    },
    "urban_planning": {
        "ru": "градостроительство застройка застройщик высотка многоэтажка генплан "
        "архитектура фасад площадь сквер_благоустройство благоустройство тротуар бульвар "
        "пешеходная_зона общественное_пространство детская_площадка двор дворы "
        "реконструкция снос здание квартал микрорайон историческое",
        "kk": "қала_құрылысы құрылыс құрылысшы көпқабатты бас_жоспар сәулет алаң абаттандыру "
        "жаяу_жүргіншілер тротуар аула балалар_алаңы ғимарат қайта_құру шағынаудан тарихи",
        "en": "planning urban zoning development developer highrise high-rise masterplan "
        "architecture facade square plaza sidewalk pavement boulevard pedestrian public_space "
        "playground courtyard yard building reconstruction demolition district historic",
    },
    "housing_utilities": {
        "ru": "ЖКХ КСК ОСИ коммунальные коммуналка отопление батареи горячая_вода вода "
        "водопровод канализация электричество свет_отключили газ лифт подъезд крыша ремонт "
        "дом_аварийный жилье квартира очередь_на_жилье тариф счетчик трубы",
        "kk": "ТКШ ПИБ коммуналдық жылу жылыту су ыстық_су кәріз электр жарық_сөнді газ лифт "
        "кіреберіс шатыр жөндеу үй тұрғын_үй пәтер тариф есептегіш құбыр",
        "en": "utilities heating radiator hot_water water plumbing sewage sewer electricity "
        "power outage gas elevator lift entrance roof repair housing apartment flat tenant "
        "tariff meter pipes building_management",
    },
    "economy_jobs": {
        "ru": "экономика работа рабочие_места безработица зарплата бизнес предприниматель "
        "малый_бизнес налоги рынок базар торговля инвестиции туризм туристы производство "
        "завод кредит цены аренда вакансии",
        "kk": "экономика жұмыс жұмыссыздық жалақы бизнес кәсіпкер шағын_бизнес салық нарық "
        "базар сауда инвестиция туризм турист өндіріс зауыт несие баға жалдау",
        "en": "economy economic job jobs work unemployment salary wage business entrepreneur "
        "small_business tax taxes market bazaar trade investment tourism tourist production "
        "factory loan prices rent vacancy startup",
    },
    "education": {
        "ru": "образование школа школы школьники ученики учитель учителя детский_сад садик "
        "детсад университет вуз студенты колледж обучение урок класс кружки",
        "kk": "білім білім_беру мектеп оқушы мұғалім балабақша университет студент колледж "
        "оқу сабақ сынып үйірме",
        "en": "education school schools pupils students teacher teachers kindergarten "
        "university college learning lesson class classroom tutoring",
    },
    "health": {
        "ru": "здоровье здравоохранение поликлиника больница врач врачи скорая медицина "
        "аптека лекарства очередь_к_врачу медсестра лечение спорт_здоровье",
        "kk": "денсаулық емхана аурухана дәрігер жедел_жәрдем медицина дәріхана дәрі "
        "емдеу медбике науқас",
        "en": "health healthcare clinic hospital doctor doctors ambulance medicine medical "
        "pharmacy drugs_medicine nurse treatment patients",
    },
    "culture": {
        "ru": "культура театр музей библиотека фестиваль концерт памятник выставка кино "
        "искусство музыка художник творчество",
        "kk": "мәдениет театр мұражай кітапхана фестиваль концерт ескерткіш көрме кино өнер "
        "музыка суретші шығармашылық",
        "en": "culture theatre theater museum library festival concert monument exhibition "
        "cinema art arts music artist",
    },
    "social": {
        "ru": "социальный пенсионер пенсионеры пенсия инвалид инвалидность пандус "
        "доступная_среда коляска многодетные пособие малоимущие бездомные льготы "
        "пожилые ветераны",
        "kk": "әлеуметтік зейнеткер зейнетақы мүгедек мүгедектігі пандус арба көпбалалы "
        "жәрдемақы аз_қамтылған баспанасыз жеңілдік қарттар ардагер",
        "en": "social pensioner pensioners pension disabled disability wheelchair ramp "
        "accessible accessibility benefits homeless elderly veterans low-income",
    },
    "digital": {
        "ru": "цифровой приложение онлайн сайт интернет wi-fi вайфай электронный egov "
        "электронное_правительство оплата_картой QR цифровизация данные открытые_данные "
        "смарт умный",
        "kk": "цифрлық қосымша онлайн сайт интернет электрондық egov электрондық_үкімет "
        "карта_арқылы QR цифрландыру деректер ашық_деректер",
        "en": "digital app application online website internet wifi wi-fi electronic egov "
        "e-government card_payment QR digitalization data open_data smart",
    },
    "governance": {
        "ru": "акимат аким управление власть прозрачность отчет бюджет коррупция депутат "
        "маслихат слушания общественные_слушания петиция чиновник госорган закон "
        "решение_акимата",
        "kk": "әкімдік әкім басқару билік ашықтық есеп бюджет сыбайлас_жемқорлық депутат "
        "мәслихат тыңдау петиция шенеунік мемлекеттік_орган заң",
        "en": "akimat akim city_hall government governance transparency accountability "
        "report budget corruption deputy maslikhat hearing petition official officials law",
    },
}
