"""Build the portal's page tree for the demo: the honor roll, news with pictures, the ranking, the store
catalogue, one page per village and family mottos (submitted and approved through the moderation workflow).
Safe to run again: a page found by its slug (or, for villages, by its village; for mottos, by its household) is
kept as it is, and only what is missing is added. Run after ``seed_demo``, which makes the villages.

The demo village ``RED_BLACK_DEMO_VILLAGE`` gets its red and black list (红黑榜) switched on when its page is
first made (later runs leave the switch as the committee set it). Every live page is indexed again at the end,
so site search finds the pages' current searchable fields.
"""

import datetime
import io

from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.search.index import insert_or_update_object

from points import clock
from points.demo.ledger import demo_moment
from points.models import Village
from portal.models import (
    FamilyMottoIndexPage,
    HomePage,
    HonorRollIndexPage,
    NewsIndexPage,
    NewsPage,
    RankingPage,
    StoreCataloguePage,
    VillageIndexPage,
    VillagePage,
)

RED_BLACK_DEMO_VILLAGE = "QS01"

# (slug, title, days ago, summary, paragraphs, quote, picture colour)
NEWS = [
    (
        "law-to-village",
        "送法下乡：《民法典》婚姻家庭编走进青山村",
        3,
        "镇司法所和妇联的同志在村文化礼堂为村民讲解赡养、继承和家庭暴力的法律知识。",
        [
            "十一月的一个上午，青山镇司法所、区妇联的工作人员来到青山村文化礼堂，七十多位村民早早就坐满了礼堂。",
            "讲座结合身边的案例，讲解了子女赡养老人的义务、遗嘱怎么立才有效、遇到家庭暴力怎样求助等内容。"
            "讲完后，不少老人拿着问题排队咨询，工作人员一一作答。",
            "参加讲座并答对问卷的户，按积分细则加 2 分，积分可以在村积分超市兑换日用品。",
        ],
        ("法律讲到家门口，老人心里更踏实。", "村民 王秀兰"),
        (179, 38, 30),
    ),
    (
        "family-day",
        "家庭日：三代同堂包饺子，邻里一起话家风",
        10,
        "柳溪村举办“家庭日”活动，四十多户人家参加，老人给孩子们讲自家的家训。",
        [
            "周末，柳溪村广场上摆起了长桌，四十多户人家三代同堂，一起和面、擀皮、包饺子。",
            "活动中，几位老人给孩子们讲了自家流传下来的家训，“勤俭持家”“与人为善”成了大家说得最多的词。",
            "村妇联主任说，家庭日每季度办一次，参加的户可以获得家庭活动积分。",
        ],
        ("家和万事兴，好家风是传下来的，也是做出来的。", "柳溪村妇联主任"),
        (29, 107, 44),
    ),
    (
        "store-open-day",
        "积分超市上新：粮油、洗衣液和学习用品到货",
        18,
        "爱心企业捐赠的一批物资已经入库，村民可以凭积分兑换。",
        [
            "本月，白水村积分超市新到一批粮油、洗衣液和学习用品，其中一部分由本地爱心企业捐赠。",
            "超市每周二、周五下午开门，村民也可以在手机上预约兑换，到店出示二维码即可领取。",
        ],
        ("积分换来的不只是东西，更是大家对好风气的认可。", "超市管理员"),
        (122, 74, 0),
    ),
    (
        "best-family-award",
        "“最美家庭”评选结果揭晓",
        25,
        "经过提名、审核和村民投票，今年的“最美家庭”评选结果已经公布。",
        [
            "今年的评选共收到提名三十多份，经村委审核后进入投票，全村户代表参加了投票。",
            "获奖家庭的事迹和家风家训已上光荣榜，欢迎村民在公示期内提出意见。",
        ],
        ("评出来的是榜样，带起来的是风气。", "村党支部书记"),
        (179, 38, 30),
    ),
]


# (village code, position among its households by number, motto, story, photo colour, approved?)
MOTTOS = [
    (
        "QS01",
        2,
        "勤俭持家，与人为善",
        "爷爷常说，日子是省出来的，人缘是帮出来的。家里的旧农具修了又修，可邻居家有难处，他总是第一个去帮忙。",
        (196, 120, 60),
        True,
    ),
    (
        "QS01",
        6,
        "孝老爱亲，和睦为先",
        "婆婆卧床三年，一家人轮流照看，从没红过脸。孩子们从小看在眼里，放学回家先去奶奶床前说说话。",
        (160, 70, 60),
        True,
    ),
    (
        "LX02",
        3,
        "耕读传家，诚信做人",
        "父亲读书不多，却要求孩子们每天读书半小时。家里卖菜从不缺斤少两，老主顾都说他家的秤准。",
        (70, 120, 90),
        True,
    ),
    (
        "BS01",
        4,
        "邻里相助，门前净洁",
        "家门口的三包责任区，母亲每天扫两遍。谁家办事缺人手，一声招呼，全家都去。",
        (60, 100, 150),
        True,
    ),
    (
        "TY02",
        5,
        "爱党爱国，爱家爱村",
        "退伍回乡的父亲在村里当了十年义务护林员，我们兄妹也跟着巡山、种树。",
        (150, 40, 40),
        True,
    ),
    ("QS01", 7, "节约用水，爱护环境", "家里装了收集雨水的缸，浇菜园从不用自来水。", (50, 130, 160), False),
]


def _motto_photo(code: str, number: str, colour: tuple[int, int, int]):
    """A family photo stand-in made with Pillow, as an uploaded file for ``motto_submit``."""
    canvas = PILImage.new("RGB", (900, 600), colour)
    draw = ImageDraw.Draw(canvas)
    light = tuple(min(255, c + 60) for c in colour)
    draw.rectangle((0, 420, 900, 600), fill=tuple(max(0, c - 30) for c in colour))
    for x in (180, 330, 480, 630):  # a family in a row
        draw.ellipse((x, 200, x + 90, 290), fill=light)
        draw.rectangle((x + 10, 290, x + 80, 430), fill=light)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return ImageFile(buffer, name=f"motto-{code.lower()}-{number}.png")


def _seed_mottos(index) -> int:
    """Family mottos through the real path: submitted (``motto_submit``: a draft in the moderation workflow, by
    the household's resident or, without one, by the committee for them), then approved in the workflow by the
    village committee (``CommitteeApprovalTask``), which publishes the page and credits the household's motto
    points once. The last one is left waiting in the committee's moderation queue."""
    from points.models import Household, StaffRole
    from portal.models import FamilyMottoPage, motto_workflow_for
    from portal.mottos import motto_submit

    motto_workflow_for(index)  # moderated by the household's own village committee
    made = 0
    for code, position, motto, story, colour, approve in MOTTOS:
        households = list(
            Household.objects.filter(village__code=code, status=Household.Status.ACTIVE).order_by("number")
        )
        if len(households) <= position:
            continue
        household = households[position]
        if FamilyMottoPage.objects.filter(household=household).exists():
            continue
        committee = (
            StaffRole.objects.filter(village=household.village, role=StaffRole.Role.COMMITTEE)
            .select_related("user")
            .first()
        )
        if committee is None:
            continue
        resident = getattr(household, "account", None)
        submitter = resident.user if resident is not None else committee.user
        page = motto_submit(
            index=index,
            user=submitter,
            household=household,
            motto=motto,
            story=story,
            photo=_motto_photo(code, household.number, colour),
        )
        if approve:  # the committee approves in the workflow: the page is published, the points credited once
            task_state = page.current_workflow_task_state
            task_state.task.specific.on_action(
                task_state, committee.user, "approve", comment="家训朴实，故事感人，同意公布。"
            )
        made += 1
    return made


def _picture(title: str, slug: str, colour: tuple[int, int, int]):
    """A simple banner made with Pillow (nothing is fetched from another host)."""
    Image = get_image_model()
    existing = Image.objects.filter(title=title).first()
    if existing:
        return existing
    canvas = PILImage.new("RGB", (1200, 675), colour)
    draw = ImageDraw.Draw(canvas)
    for i in range(0, 1200, 60):
        draw.ellipse((i, 520 - (i % 180), i + 120, 640 - (i % 180)), fill=tuple(min(255, c + 40) for c in colour))
    draw.rectangle((80, 80, 1120, 200), fill=(255, 250, 243))
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return Image.objects.create(title=title, file=ImageFile(buffer, name=f"news-{slug}.png"))


def _child(parent, model, slug: str, **fields):
    """The child of ``parent`` with this slug, made (and published) if missing."""
    existing = parent.get_children().filter(slug=slug).first()
    if existing:
        return existing.specific
    page = parent.add_child(instance=model(slug=slug, **fields))
    page.save_revision().publish()
    return page


class Command(BaseCommand):
    help = "建立门户的页面：光荣榜、新闻动态、排行榜、积分超市和各村页面（可重复运行）"

    @transaction.atomic
    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day the news is dated back from, as seed_demo's --date (default: now)")

    def handle(self, *args, date=None, **options):
        try:
            moment = demo_moment(date)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        with clock.frozen_at(moment):
            self._seed()

    def _seed(self):
        home = HomePage.objects.first()
        if home is None:
            raise CommandError("找不到首页：请先运行 migrate")
        if not home.intro:
            home.intro = "<p>好家风积出来，好日子兑出来。这里公布光荣榜、积分排行、积分公示和积分超市的商品。</p>"
            home.save_revision().publish()
        _child(
            home,
            HonorRollIndexPage,
            "honor-roll",
            title="光荣榜",
            intro="<p>好婆婆、好媳妇、最美家庭、星级文明户……向身边的榜样学习。</p>",
        )
        news_index = _child(
            home, NewsIndexPage, "news", title="新闻动态", intro="<p>送法下乡、家庭日、积分超市的新消息。</p>"
        )
        today = clock.localdate()
        for slug, title, days_ago, summary, paragraphs, (quote, by), colour in NEWS:
            picture = _picture(title, slug, colour)
            body = [
                ("paragraph", f"<p>{paragraphs[0]}</p>"),
                ("image", {"image": picture, "caption": title}),
                ("heading", {"text": "活动情况"}),
                *[("paragraph", f"<p>{text}</p>") for text in paragraphs[1:]],
                ("quote", {"text": quote, "attribution": by}),
            ]
            _child(
                news_index,
                NewsPage,
                slug,
                title=title,
                date=today - datetime.timedelta(days=days_ago),
                summary=summary,
                body=body,
            )
        _child(
            home,
            RankingPage,
            "ranking",
            title="排行榜",
            intro="<p>按文明积分（加分减扣分，兑换不扣）排名，可以按月、季度、年查看。</p>",
        )
        _child(
            home,
            StoreCataloguePage,
            "catalogue",
            title="积分超市",
            intro="<p>选择您所在的村，看看积分能换什么。</p>",
        )
        village_index = _child(
            home, VillageIndexPage, "villages", title="各村", intro="<p>每个村的光荣榜、积分公示和超市。</p>"
        )
        motto_index = _child(
            home,
            FamilyMottoIndexPage,
            "mottos",
            title="家风家训",
            intro="<p>一家一句家训，一户一段故事。居民可以在手机上提交，村委审核后公布。</p>",
        )
        made = 0
        pages = set(VillagePage.objects.values_list("village_id", flat=True))
        for village in Village.objects.select_related("township").order_by("township__code", "code"):
            if village.pk in pages:
                continue
            village_index.add_child(
                instance=VillagePage(
                    title=village.name,
                    slug=village.code.lower(),
                    village=village,
                    intro=f"<p>{village.township.name}{village.name}的积分、评选和超市。</p>",
                )
            ).save_revision().publish()
            made += 1
            if village.code == RED_BLACK_DEMO_VILLAGE and not village.red_black_list:
                village.red_black_list = True
                village.save(update_fields=["red_black_list"])
        mottos = _seed_mottos(motto_index)
        for page in home.get_descendants(inclusive=True).live().specific():
            insert_or_update_object(page)
        self.stdout.write(self.style.SUCCESS(f"页面已就绪（新建村页面 {made} 个，家风家训 {mottos} 篇）"))
